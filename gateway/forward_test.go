package gateway

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// Headers other than credentials, query strings, paths outside /v1/ and
// bodies (even malformed ones) arrive unchanged.
func TestForwardsUnchanged(t *testing.T) {
	e := newEnv(t, allowAll, nil)
	bodies := []string{
		messagesBody,
		"{\n  \"model\" : \"claude-sonnet-4-5\",\"max_tokens\":1,\"messages\":[],\"x\":1.50e3, \"u\":\"\\u00e9\"}\n",
		`{"model": "claude-sonnet-4-5", "messages": [`, // malformed: no rule needs a body field
		"",
	}
	for _, path := range []string{"/v1/messages?beta=true", "/api/claude_code/settings", "/v1/models/claude-x?after_id=a%2Fb"} {
		for _, body := range bodies {
			r := newRequest("POST", path, body)
			r.Header.Add("Anthropic-Beta", "a-2025-01-01,b-2025-02-02")
			r.Header.Add("Anthropic-Beta", "c-2025-03-03")
			r.Header.Set("X-Stainless-Lang", "js")
			r.Header.Set("X-Claude-Code-Session-Id", "sess-1")
			r.Header.Set("X-Unknown-Thing", "spaced  value; a=b, c")
			r.Header.Set("X-Api-Key", clientKey)
			if w := e.do(r); w.Code != 200 {
				t.Fatalf("%s: status %d: %s", path, w.Code, w.Body)
			}
			got := e.up.last(t)
			if got.URI != path {
				t.Errorf("upstream URI %q, want %q", got.URI, path)
			}
			if !bytes.Equal(got.Body, []byte(body)) {
				t.Errorf("%s: body changed:\n got %q\nwant %q", path, got.Body, body)
			}
			for _, k := range []string{"Anthropic-Version", "Anthropic-Beta", "X-Stainless-Lang", "X-Claude-Code-Session-Id", "X-Unknown-Thing", "Content-Type"} {
				if g, w := strings.Join(got.Header.Values(k), "|"), strings.Join(r.Header.Values(k), "|"); g != w {
					t.Errorf("%s: header %s = %q, want %q", path, k, g, w)
				}
			}
		}
	}
}

func TestResponsePassesThrough(t *testing.T) {
	e := newEnv(t, allowAll, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Anthropic-Ratelimit-Requests-Remaining", "42")
		w.WriteHeader(200)
		for i := range 100 {
			w.Write(bytes.Repeat([]byte{byte(i)}, 1000))
			w.(http.Flusher).Flush()
		}
	})
	w := e.do(newRequest("GET", "/v1/files/file_1/content", ""))
	if w.Code != 200 || w.Body.Len() != 100_000 || w.Header().Get("Anthropic-Ratelimit-Requests-Remaining") != "42" {
		t.Fatalf("status %d, %d bytes, headers %v", w.Code, w.Body.Len(), w.Header())
	}
	for i := range 100 {
		if w.Body.Bytes()[i*1000] != byte(i) {
			t.Fatalf("byte %d changed", i*1000)
		}
	}
	rec, _ := e.audit.last(t)
	if rec.BytesOut != 100_000 || rec.Status != 200 || rec.Decision != "allow" {
		t.Errorf("record %+v", rec)
	}
}

func TestContainsString(t *testing.T) {
	for _, c := range []struct {
		b, s string
		want bool
	}{{"", "k", false}, {"k", "k", true}, {"xxk", "k", true}, {"ab", "abc", false}, {"aab", "ab", true},
		{"a-managed-secret!", "managed-secret", true}, {"managed-secre", "managed-secret", false}, {"mmanaged", "managed", true}} {
		if got := containsString([]byte(c.b), c.s); got != c.want {
			t.Errorf("containsString(%q, %q) = %v", c.b, c.s, got)
		}
	}
}
