package fakeapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/airlock-dev/airlock/apierror"
)

const helloBody = `{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`

// do sends one request straight to the handler.
func do(s *Server, method, path, body string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func newFake() *Server {
	return New(Config{APIKeys: []string{testKey}, BearerTokens: []string{testToken}})
}

// wantError checks an API-shaped error of status and type.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, errType string) {
	t.Helper()
	var b apierror.Body
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil || rec.Code != status || b.Type != "error" || b.Error.Type != errType || b.RequestID == "" {
		t.Fatalf("got %d %s, want %d %s", rec.Code, rec.Body, status, errType)
	}
}

func TestAuthentication(t *testing.T) {
	cases := []struct {
		name   string
		header http.Header
		ok     bool
	}{
		{"none", http.Header{}, false},
		{"api key", http.Header{"X-Api-Key": {testKey}}, true},
		{"api key as bearer", http.Header{"Authorization": {"Bearer " + testKey}}, true},
		{"bearer token", http.Header{"Authorization": {"Bearer " + testToken}}, true},
		{"wrong key", http.Header{"X-Api-Key": {"sk-ant-api03-FAKE-other"}}, false},
		{"wrong token", http.Header{"Authorization": {"Bearer sk-ant-oat01-FAKE-other"}}, false},
		{"token without Bearer", http.Header{"Authorization": {testToken}}, false},
		{"repeated key", http.Header{"X-Api-Key": {testKey, testKey}}, false},
		{"client key next to managed", http.Header{"X-Api-Key": {testKey}, "Authorization": {"Bearer sk-ant-oat01-FAKE-app"}}, false},
		{"both accepted", http.Header{"X-Api-Key": {testKey}, "Authorization": {"Bearer " + testToken}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(newFake(), "POST", "/v1/messages", helloBody, tc.header)
			if tc.ok && rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if !tc.ok {
				wantError(t, rec, 401, apierror.Authentication)
			}
		})
	}
}

func TestNoCredentialsConfiguredRefusesAll(t *testing.T) {
	wantError(t, do(New(Config{}), "POST", "/v1/messages", helloBody, http.Header{"X-Api-Key": {""}}), 401, apierror.Authentication)
}

func TestBadRequests(t *testing.T) {
	key := http.Header{"X-Api-Key": {testKey}}
	cases := []struct {
		name, method, path, body string
		status                   int
		errType                  string
	}{
		{"invalid JSON", "POST", "/v1/messages", `{"model":`, 400, apierror.InvalidRequest},
		{"no max_tokens", "POST", "/v1/messages", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, 400, apierror.InvalidRequest},
		{"no messages", "POST", "/v1/messages", `{"model":"m","max_tokens":1,"messages":[]}`, 400, apierror.InvalidRequest},
		{"unknown scenario", "POST", "/v1/messages", strings.Replace(helloBody, "claude-sonnet-4-5", "fake-nope", 1), 400, apierror.InvalidRequest},
		{"count_tokens invalid JSON", "POST", "/v1/messages/count_tokens", `[`, 400, apierror.InvalidRequest},
		{"unknown path", "GET", "/v1/nothing", "", 404, apierror.NotFound},
		{"unknown model", "GET", "/v1/models/claude-none", "", 404, apierror.NotFound},
		{"wrong method", "GET", "/v1/messages", "", 405, apierror.InvalidRequest},
		{"fake-error model", "POST", "/v1/messages", strings.Replace(helloBody, "claude-sonnet-4-5", "fake-error", 1), 529, apierror.Overloaded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, do(newFake(), tc.method, tc.path, tc.body, key), tc.status, tc.errType)
		})
	}
}

func TestStatusScenarioSetsRetryAfter(t *testing.T) {
	h := http.Header{"X-Api-Key": {testKey}, HeaderScenario: {ScenarioError}, HeaderStatus: {"429"}}
	rec := do(newFake(), "POST", "/v1/messages", helloBody, h)
	wantError(t, rec, 429, apierror.RateLimit)
	if rec.Header().Get("Retry-After") == "" {
		t.Fatal("429 without retry-after")
	}
}

func TestBodyTooLarge(t *testing.T) {
	big := `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"` + strings.Repeat("a", MaxBodyBytes) + `"}]}`
	wantError(t, do(newFake(), "POST", "/v1/messages", big, http.Header{"X-Api-Key": {testKey}}), 413, apierror.RequestTooLarge)
}

func TestOtherEndpoints(t *testing.T) {
	s, key := newFake(), http.Header{"X-Api-Key": {testKey}}
	for _, path := range []string{"/api/claude_code/settings", "/api/claude_code/policy_limits", "/v1/models", "/v1/models/claude-haiku-4-5"} {
		if rec := do(s, "GET", path, "", key); rec.Code != 200 || !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
	wantError(t, do(s, "GET", "/api/claude_code/settings", "", nil), 401, apierror.Authentication)
	var count struct {
		InputTokens int `json:"input_tokens"`
	}
	rec := do(s, "POST", "/v1/messages/count_tokens", helloBody, key)
	if json.Unmarshal(rec.Body.Bytes(), &count) != nil || count.InputTokens < 1 {
		t.Fatalf("count_tokens %d %s", rec.Code, rec.Body)
	}
}

// TestRecordsEveryRequest checks the recording is exact: method, URI with
// query, repeated and unknown headers, the body byte for byte, refused requests too.
func TestRecordsEveryRequest(t *testing.T) {
	s := newFake()
	h := http.Header{"X-Api-Key": {testKey}, "Anthropic-Beta": {"a-1", "b-2"}, "X-Unknown": {"v"}}
	do(s, "POST", "/v1/messages?beta=true", helloBody, h)
	do(s, "GET", "/v1/models", "", nil)
	got := s.Requests()
	if len(got) != 2 {
		t.Fatalf("recorded %d requests, want 2", len(got))
	}
	r := got[0]
	if r.Method != "POST" || r.URI != "/v1/messages?beta=true" || r.Path != "/v1/messages" || string(r.Body) != helloBody ||
		strings.Join(r.Header.Values("Anthropic-Beta"), ",") != "a-1,b-2" || r.Header.Get("X-Unknown") != "v" {
		t.Fatalf("recorded %+v", r)
	}
	if s.Reset(); len(s.Requests()) != 0 {
		t.Fatal("Reset kept requests")
	}
}

// event is one parsed server-sent event.
type event struct {
	name string
	data map[string]any
}

func parseSSE(t *testing.T, body io.Reader) []event {
	t.Helper()
	var events []event
	var name string
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			name = v
		} else if v, ok := strings.CutPrefix(line, "data: "); ok {
			var data map[string]any
			if err := json.Unmarshal([]byte(v), &data); err != nil || data["type"] != name {
				t.Fatalf("event %q data %s: type must equal the event name (%v)", name, v, err)
			}
			events = append(events, event{name, data})
		}
	}
	return events
}

// TestStreamGrammar checks the raw event order, pings, delta sizes and that
// usage in message_delta is cumulative.
func TestStreamGrammar(t *testing.T) {
	h := http.Header{"X-Api-Key": {testKey}, HeaderScenario: {ScenarioLong}, HeaderEvents: {"100"}, HeaderDeltaSize: {"30"}}
	rec := do(newFake(), "POST", "/v1/messages", strings.Replace(helloBody, `"max_tokens"`, `"stream":true,"max_tokens"`, 1), h)
	if ct := rec.Header().Get("Content-Type"); rec.Code != 200 || !strings.HasPrefix(ct, "text/event-stream") || rec.Header().Get("Request-Id") == "" {
		t.Fatalf("status %d content-type %q", rec.Code, ct)
	}
	events := parseSSE(t, rec.Body)
	var names []string
	deltas, pings := 0, 0
	for _, e := range events {
		switch e.name {
		case "content_block_delta":
			deltas++
			if text := e.data["delta"].(map[string]any)["text"].(string); len(text) != 30 {
				t.Fatalf("delta of %d bytes, want 30", len(text))
			}
			continue
		case "ping":
			pings++
			continue
		}
		names = append(names, e.name)
	}
	want := "message_start,content_block_start,content_block_stop,message_delta,message_stop"
	if strings.Join(names, ",") != want || deltas != 100 || pings < 2 {
		t.Fatalf("events %v, %d deltas, %d pings", names, deltas, pings)
	}
	final := events[len(events)-2].data["usage"].(map[string]any)
	if final["output_tokens"].(float64) != 100*30/4 || final["input_tokens"].(float64) < 1 {
		t.Fatalf("final usage %v", final)
	}
}

func TestEchoKeepsMultibyteTextWhole(t *testing.T) {
	prompt := strings.Repeat("clé sk-ant-api03-FAKE-leak 🔑 ", 20)
	body, _ := json.Marshal(map[string]any{"model": "fake-echo", "max_tokens": 10, "stream": true,
		"system": "sys", "messages": []map[string]any{{"role": "user", "content": []map[string]string{{"type": "text", "text": prompt}}}}})
	rec := do(newFake(), "POST", "/v1/messages", string(body), http.Header{"X-Api-Key": {testKey}, HeaderChunk: {"3"}})
	var got bytes.Buffer
	for _, e := range parseSSE(t, rec.Body) {
		if e.name == "content_block_delta" {
			text := e.data["delta"].(map[string]any)["text"].(string)
			if !utf8.ValidString(text) || text == "" {
				t.Fatalf("delta %q is not whole runes", text)
			}
			got.WriteString(text)
		}
	}
	if got.String() != "sys\n"+prompt {
		t.Fatalf("echo %q", got.String())
	}
}

func FuzzSplit(f *testing.F) {
	f.Add("héllo wörld 🌍", 0)
	f.Add("abc", 1)
	f.Fuzz(func(t *testing.T, s string, fixed int) {
		fixed %= 64
		chunks := split(s, fixed)
		if strings.Join(chunks, "") != s {
			t.Fatalf("split(%q, %d) = %q loses bytes", s, fixed, chunks)
		}
		for _, c := range chunks {
			if c == "" || (utf8.ValidString(s) && !utf8.ValidString(c)) {
				t.Fatalf("split(%q, %d) = %q cuts a rune", s, fixed, chunks)
			}
		}
	})
}
