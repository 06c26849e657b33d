package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/audit"
)

// A fake AWS key (AWS's documentation example) inside a tool's input and a
// tool's result: the record keeps the action, masked like any other text.
const actionSecret = "AKIAIOSFODNN7EXAMPLE"

// toolUseStream is a streamed answer with text, then a Bash tool call whose
// input arrives in 5-byte input_json_delta fragments, as Claude Code sees it.
func toolUseStream() string {
	input := `{"command":"aws s3 ls --key ` + actionSecret + `","description":"list buckets"}`
	var frags []string
	for i := 0; i < len(input); i += 5 {
		frags = append(frags, input[i:min(i+5, len(input))])
	}
	return bashStream(frags...)
}

// splitUpstream writes body in two flushed writes, split at *at.
func splitUpstream(body string, at *int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, body[:*at])
		w.(http.Flusher).Flush()
		io.WriteString(w, body[*at:])
	}
}

// The tool call of a streamed answer becomes one action with its whole,
// masked input, identically wherever the upstream bytes are split.
func TestStreamedToolUseIsOneActionAtEverySplit(t *testing.T) {
	body, at := toolUseStream(), 0
	e := newEnv(t, allowAll, splitUpstream(body, &at), withMasker(t))
	var first []audit.Action
	for at = 0; at <= len(body); at++ {
		w := e.do(newRequest("POST", "/v1/messages", `{"model":"m","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"list"}]}`))
		rec, _ := e.audit.last(t)
		if w.Code != 200 || len(rec.Actions) != 1 {
			t.Fatalf("split at %d: status %d, actions %+v", at, w.Code, rec.Actions)
		}
		if first == nil {
			first = rec.Actions
			checkBashAction(t, first[0])
		} else if a, b := mustJSON(t, first), mustJSON(t, rec.Actions); a != b {
			t.Fatalf("split at %d: action %s, at 0: %s", at, b, a)
		}
	}
}

func checkBashAction(t *testing.T, a audit.Action) {
	t.Helper()
	var in struct{ Command, Description string }
	if a.ID != "toolu_01" || a.Tool != "Bash" || a.Type != "tool_use" || a.Decision != "allow" || json.Unmarshal(a.Input, &in) != nil {
		t.Fatalf("action %+v", a)
	}
	if !strings.HasPrefix(in.Command, "aws s3 ls --key ") || strings.Contains(in.Command, actionSecret) || in.Description != "list buckets" {
		t.Errorf("recorded input %q: want the command with the key masked", a.Input)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A whole (non-streamed) answer's tool calls are recorded too.
func TestJSONToolUseIsAnAction(t *testing.T) {
	up := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"msg_j","type":"message","role":"assistant","stop_reason":"tool_use","content":[`+
			`{"type":"text","text":"ok"},{"type":"tool_use","id":"toolu_01","name":"Bash","input":{"command":"aws s3 ls --key `+actionSecret+`","description":"list buckets"}}],`+
			`"usage":{"input_tokens":3,"output_tokens":9}}`)
	}
	e := newEnv(t, allowAll, up, withMasker(t))
	if w := e.do(newRequest("POST", "/v1/messages", messagesBody)); w.Code != 200 || strings.Contains(w.Body.String(), actionSecret) {
		t.Fatalf("status %d body %s", w.Code, w.Body)
	}
	rec, _ := e.audit.last(t)
	if len(rec.Actions) != 1 {
		t.Fatalf("actions %+v", rec.Actions)
	}
	checkBashAction(t, rec.Actions[0])
}

// The client's next request reports the result: linked by the tool_use id,
// with a masked excerpt; results in resent history are not counted again.
func TestToolResultIsLinked(t *testing.T) {
	e := newEnv(t, allowAll, okJSON, withMasker(t))
	body := `{"model":"m","max_tokens":64,"messages":[` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_00","content":"old"}]},` +
		`{"role":"assistant","content":[{"type":"tool_use","id":"toolu_01","name":"Bash","input":{"command":"ls"}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","is_error":true,` +
		`"content":[{"type":"text","text":"denied for ` + actionSecret + `"}]}]}]}`
	if w := e.do(newRequest("POST", "/v1/messages", body)); w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	rec, _ := e.audit.last(t)
	if len(rec.ToolResults) != 1 {
		t.Fatalf("tool results %+v, want the last turn's one", rec.ToolResults)
	}
	r := rec.ToolResults[0]
	if r.ToolUseID != "toolu_01" || !r.IsError || r.Size == 0 || !strings.HasPrefix(r.Excerpt, "denied for ") || strings.Contains(r.Excerpt, actionSecret) {
		t.Errorf("tool result %+v", r)
	}
}

// Many tool calls in one answer cannot make its record hold more than the
// bound of input: the calls are all recorded, the inputs past it truncated.
func TestActionInputsAreBoundedPerResponse(t *testing.T) {
	big := strings.Repeat("x", maxActionInput/2)
	var blocks []string
	for i := range 4 {
		blocks = append(blocks, fmt.Sprintf(`{"type":"tool_use","id":"toolu_%d","name":"Write","input":{"content":%q}}`, i, big))
	}
	up := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"msg_b","type":"message","role":"assistant","stop_reason":"tool_use","content":[`+
			strings.Join(blocks, ",")+`],"usage":{"input_tokens":3,"output_tokens":9}}`)
	}
	e := newEnv(t, allowAll, up)
	if w := e.do(newRequest("POST", "/v1/messages", messagesBody)); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	rec, _ := e.audit.last(t)
	kept := 0
	for _, a := range rec.Actions {
		kept += len(a.Input)
	}
	if len(rec.Actions) != 4 || kept > maxActionInput+4*64 || !rec.Actions[3].Truncated {
		t.Errorf("%d actions keeping %d bytes of input (last truncated: %v); want 4, at most about %d",
			len(rec.Actions), kept, len(rec.Actions) > 0 && rec.Actions[len(rec.Actions)-1].Truncated, maxActionInput)
	}
}
