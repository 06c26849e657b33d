package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// expectRefused checks a 400 invalid_request_error that the upstream never
// saw and the audit recorded as a denial.
func (e *env) expectRefused(t *testing.T, what string, w *httptest.ResponseRecorder, mentions string) {
	t.Helper()
	body := w.Body.Bytes()
	if w.Code != http.StatusBadRequest {
		t.Fatalf("%.80s: status %d, want 400: %.300s", what, w.Code, body)
	}
	if ae := decodeError(t, body); ae.Error.Type != "invalid_request_error" || !strings.Contains(ae.Error.Message, mentions) {
		t.Fatalf("%s: error %+v, want one mentioning %q", what, ae.Error, mentions)
	}
	if rec, _ := e.audit.last(t); rec.Decision != "deny" || rec.Status != 400 {
		t.Fatalf("%s: audit record %+v", what, rec)
	}
	if n := e.up.count(); n != 0 {
		t.Fatalf("%s: the upstream received %d requests", what, n)
	}
}

// Issue 11, item 3: ten million open brackets (10 MB, under the 32 MiB
// limit) overflowed the stack in the JSON validator and killed the daemon
// (here: the test binary). Nesting past 512 levels is refused before any
// recursive parser runs, in the body and in a tool's input; 512 is served.
func TestDeepNestingIsRefusedNotFatal(t *testing.T) {
	e := newEnv(t, allowAll, nil, withMasker(t))
	body := `{"a":` + strings.Repeat("[", 10_000_000)
	e.expectRefused(t, "ten million brackets", e.do(newRequest("POST", "/v1/messages", body)), "deeper than 512")
	tool := func(depth int) string {
		return `{"model":"claude-sonnet-4-5","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"x","input":` +
			strings.Repeat(`{"k":`, depth-5) + `"AKIAIOSFODNN7EXAMPLE"` + strings.Repeat("}", depth-5) + `}]}]}`
	}
	e.expectRefused(t, "513 levels", e.do(newRequest("POST", "/v1/messages", tool(513))), "deeper than 512")
	if w := e.do(newRequest("POST", "/v1/messages", tool(512))); w.Code != 200 {
		t.Fatalf("512 levels: status %d: %s", w.Code, w.Body)
	}
	if got := e.up.last(t); strings.Contains(string(got.Body), "AKIAIOSFODNN7EXAMPLE") {
		t.Fatal("the key 500 levels down in a tool input was not masked")
	}
}

// Issue 11, item 5: a repeated key, at any depth and in any spelling, is
// refused: policy read the first "model" while parsers upstream keep the last.
func TestDuplicateKeysAreRefused(t *testing.T) {
	e := newEnv(t, denyPolicy, nil)
	for _, body := range []string{
		`{"model":"claude-sonnet-4-5","max_tokens":1,"model":"claude-opus-4-1"}`,
		`{"model":"claude-sonnet-4-5","max_tokens":1,"mod\u0065l":"claude-opus-4-1"}`,
		`{"model":"claude-sonnet-4-5","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text","text":"a","text":"b"}]}]}`,
	} {
		e.expectRefused(t, body, e.do(newRequest("POST", "/v1/messages", body)), "repeats a key")
	}
}

// Issue 11, item 5: the same Messages body (an AWS key, a GitHub token, an
// Opus model, max_tokens 99999) under every Content-Type a client may write
// is parsed, capped and masked as JSON, on every spelling of the path.
func TestMessagesBodiesAreJSONWhateverTheContentType(t *testing.T) {
	const body = `{"model":"claude-opus-4-1","max_tokens":99999,"messages":[{"role":"user","content":"AKIAIOSFODNN7EXAMPLE and ghp_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE"}]}`
	capped := "rules:\n  - id: capped\n    when: \"true\"\n    action: allow\n    max_tokens: 4096\n"
	paths := []string{"/v1/messages", "/v1/messages?beta=true", "/v1/messages/count_tokens", "//v1/messages", "/v1/messages/"}
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/json,text/plain", "", "application/octet-stream"} {
		for _, p := range paths {
			e := newEnv(t, capped, nil)
			w := e.do(withContentType(newRequest("POST", p, body), ct))
			if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "caps max_tokens") || e.up.count() != 0 {
				t.Fatalf("%s %q: status %d, upstream %d: %s", p, ct, w.Code, e.up.count(), w.Body)
			}
		}
		e := newEnv(t, allowAll, nil, withMasker(t))
		if w := e.do(withContentType(newRequest("POST", "/v1/messages", body), ct)); w.Code != 200 {
			t.Fatalf("%q: status %d: %s", ct, w.Code, w.Body)
		}
		if got := string(e.up.last(t).Body); strings.Contains(got, "AKIAIOSFODNN7EXAMPLE") || strings.Contains(got, "ghp_FAKE") {
			t.Fatalf("%q: forwarded unmasked: %s", ct, got)
		}
	}
}

// A Messages body that is not JSON is refused wherever masking or a rule
// needs it (fail closed), never forwarded unexamined; elsewhere (an upload
// that declares no JSON) bodies pass as before.
func TestUnparseableMessagesBodyFailsClosed(t *testing.T) {
	e := newEnv(t, allowAll, nil, withMasker(t))
	for _, body := range []string{"model=claude-opus-4-1&note=AKIAIOSFODNN7EXAMPLE", `{"model":"x",`, `["AKIAIOSFODNN7EXAMPLE"]`} {
		e.expectRefused(t, body, e.do(withContentType(newRequest("POST", "/v1/messages", body), "text/plain")), "not valid JSON")
	}
	w := e.do(withContentType(newRequest("POST", "/v1/files", "--b\r\nraw bytes\r\n--b--"), "multipart/form-data; boundary=b"))
	if w.Code != 200 || string(e.up.last(t).Body) != "--b\r\nraw bytes\r\n--b--" {
		t.Fatalf("upload: status %d", w.Code)
	}
}

func withContentType(r *http.Request, ct string) *http.Request {
	r.Header.Del("Content-Type")
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	return r
}
