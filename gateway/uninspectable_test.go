package gateway

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// rmAnswer is a whole Messages answer whose one tool call the action policy denies.
const rmAnswer = `{"id":"m","type":"message","role":"assistant","stop_reason":"tool_use","content":[` +
	`{"type":"tool_use","id":"toolu_rm","name":"Bash","input":{"command":"rm -rf /"}}],"usage":{"input_tokens":1,"output_tokens":1}}`

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, s)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// answerWith is an upstream that answers every request with body and headers.
func answerWith(body []byte, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Write(body)
	}
}

// An answer to a Messages request that the gateway cannot read (encoded
// although it asked for identity, of a type that is neither JSON nor SSE, or
// declared larger than the bound) is refused, never passed on undecided: its
// tool calls would reach the agent without the action policy seeing them.
func TestUninspectableAnswersAreRefused(t *testing.T) {
	big := strings.Replace(rmAnswer, `"rm -rf /"`, `"rm -rf /`+strings.Repeat(" ", 8<<10)+`"`, 1)
	stream := bashStream(`{"command":"rm -rf /"}`)
	for _, tc := range []struct {
		name   string
		h      http.HandlerFunc
		reason string
	}{
		{"gzip JSON", answerWith(gzipped(t, rmAnswer), "Content-Type", "application/json", "Content-Encoding", "gzip"), "gzip"},
		{"gzip SSE", answerWith(gzipped(t, stream), "Content-Type", "text/event-stream", "Content-Encoding", "gzip"), "gzip"},
		{"br JSON", answerWith([]byte(rmAnswer), "Content-Type", "application/json", "Content-Encoding", "br"), "br"},
		{"text/plain", answerWith([]byte(rmAnswer), "Content-Type", "text/plain"), "text/plain"},
		{"no type", answerWith([]byte(rmAnswer), "Content-Type", ""), "no content type"},
		{"over the bound", answerWith([]byte(big), "Content-Type", "application/json", "Content-Length", strconv.Itoa(len(big))),
			"exceeded 4096 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, actionPolicy, tc.h, withConfig(func(c *Config) { c.MaxBody = 4 << 10 }))
			w := e.do(newRequest("POST", "/v1/messages", messagesBody))
			if w.Code != statusCut || strings.Contains(w.Body.String(), "rm -rf") || !strings.Contains(w.Body.String(), `"api_error"`) {
				t.Fatalf("status %d, body %.200q", w.Code, w.Body)
			}
			rec, _ := e.audit.last(t)
			if e.audit.count() != 1 || rec.Status != statusCut || !strings.Contains(rec.Reason, tc.reason) {
				t.Fatalf("%d records; status %d, reason %q", e.audit.count(), rec.Status, rec.Reason)
			}
		})
	}
}

// What no agent acts on still passes as the API sent it: a batch's results
// (JSON Lines), and an error page of a proxy in front of the API.
func TestOtherAnswersStillPass(t *testing.T) {
	lines := []byte(`{"custom_id":"a","result":{"type":"succeeded"}}` + "\n")
	e := newEnv(t, actionPolicy, answerWith(lines, "Content-Type", "application/binary"))
	if w := e.do(newRequest("GET", "/v1/messages/batches/msgbatch_1/results", "")); w.Code != 200 || !bytes.Equal(w.Body.Bytes(), lines) {
		t.Fatalf("batch results: status %d, %q", w.Code, w.Body)
	}
	page := []byte("<html>502 Bad Gateway</html>")
	e = newEnv(t, actionPolicy, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		w.Write(page)
	})
	if w := e.do(newRequest("POST", "/v1/messages", messagesBody)); w.Code != http.StatusBadGateway || !bytes.Equal(w.Body.Bytes(), page) {
		t.Fatalf("error page: status %d, %q", w.Code, w.Body)
	}
}

// The API may resolve "//", "." and a trailing "/" in a path as any server
// does: such a path is a Messages request for the gate too, so a tool call
// in its answer is decided, and an unreadable answer refused.
func TestUncleanMessagesPathsAreGated(t *testing.T) {
	for _, p := range []string{"/v1//messages", "/v1/./messages", "/v1/messages/", "/v1/x/../messages"} {
		e := newEnv(t, actionPolicy, answerWith([]byte(rmAnswer), "Content-Type", "application/json"))
		if w := e.do(newRequest("POST", p, messagesBody)); strings.Contains(w.Body.String(), "rm -rf") || !strings.Contains(w.Body.String(), "no-recursive-rm") {
			t.Errorf("%s: status %d, the denied call passed: %.300s", p, w.Code, w.Body)
		}
		e = newEnv(t, actionPolicy, answerWith(gzipped(t, rmAnswer), "Content-Type", "application/json", "Content-Encoding", "gzip"))
		if w := e.do(newRequest("POST", p, messagesBody)); w.Code != statusCut {
			t.Errorf("%s: a gzip'd answer got status %d, want %d", p, w.Code, statusCut)
		}
	}
}

// A rule on request.path sees the path as the API resolves it: "//" or
// "./" does not walk a request past it.
func TestPolicySeesTheResolvedPath(t *testing.T) {
	const noFiles = "rules:\n  - id: no-files\n    when: request.path.startsWith(\"/v1/files\")\n    action: deny\ndefault:\n  action: allow\n"
	for _, p := range []string{"/v1/files", "//v1/files", "/v1/./files/x", "/v1/messages/../files"} {
		e := newEnv(t, noFiles, nil)
		if w := e.do(newRequest("GET", p, "")); w.Code != http.StatusForbidden || e.up.count() != 0 {
			t.Errorf("%s: status %d, %d requests upstream", p, w.Code, e.up.count())
		}
	}
}
