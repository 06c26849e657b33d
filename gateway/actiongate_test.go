package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/policy"
	"github.com/airlock-dev/airlock/policy/approval"
)

// actionPolicy allows every request and decides tool calls.
const actionPolicy = `rules:
  - id: no-recursive-rm
    on: action
    when: action.tool == "Bash" && action.input.command.matches(r"rm\s+-rf")
    action: deny
    reason: recursive deletes are not allowed
  - id: hold-deploys
    on: action
    when: action.tool == "Bash" && action.input.command.startsWith("deploy")
    action: require_approval
    reason: deploys need a human
default:
  action: allow
`

// bashStream is a streamed answer: text, then one Bash tool_use whose input
// arrives in the given input_json_delta fragments, then more of the message.
func bashStream(frags ...string) string {
	var b strings.Builder
	ev := func(name, data string) { fmt.Fprintf(&b, "event: %s\ndata: %s\n\n", name, data) }
	ev("message_start", `{"type":"message_start","message":{"id":"msg_t","type":"message","role":"assistant","content":[],"model":"m","usage":{"input_tokens":5,"output_tokens":1}}}`)
	ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	ev("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Running."}}`)
	ev("content_block_stop", `{"type":"content_block_stop","index":0}`)
	ev("content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01","name":"Bash","input":{}}}`)
	for _, f := range frags {
		q, _ := json.Marshal(f)
		ev("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":`+string(q)+`}}`)
	}
	ev("content_block_stop", `{"type":"content_block_stop","index":1}`)
	ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":30}}`)
	ev("message_stop", `{"type":"message_stop"}`)
	return b.String()
}

const streamReq = `{"model":"m","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"go"}]}`

// Property: wherever the tool's input is split into fragments, and wherever
// the upstream's bytes are split, the decision, what the client receives and
// what the audit records are the same.
func TestToolInputSplitsDecideIdentically(t *testing.T) {
	for _, tc := range []struct{ input, decision string }{
		{`{"command":"echo hello","description":"greet"}`, "allow"},
		{`{"command":"rm -rf /srv/data","description":"clean"}`, "deny"},
	} {
		t.Run(tc.decision, func(t *testing.T) {
			var body string
			at, first, firstRec := 0, "", ""
			e := newEnv(t, actionPolicy, func(w http.ResponseWriter, r *http.Request) { splitUpstream(body, &at)(w, r) }, withMasker(t))
			wholeBody := false // an allowed call is passed unchanged: its fragments differ until the upstream split phase
			check := func(label string) {
				w := e.do(newRequest("POST", "/v1/messages", streamReq))
				rec, _ := e.audit.last(t)
				if w.Code != 200 || len(rec.Actions) != 1 || rec.Actions[0].Decision != tc.decision {
					t.Fatalf("%s: status %d, actions %+v", label, w.Code, rec.Actions)
				}
				got, gotRec := w.Body.String(), mustJSON(t, rec.Actions)
				checkGated(t, got, tc.decision)
				if firstRec == "" {
					firstRec = gotRec
				}
				if first == "" {
					first = got
				} else if got != first && (tc.decision != "allow" || wholeBody) || gotRec != firstRec {
					t.Fatalf("%s: client got\n%s\nrecord %s\nfirst run:\n%s\nrecord %s", label, got, gotRec, first, firstRec)
				}
			}
			for k := 0; k <= len(tc.input); k++ {
				body, at = bashStream(tc.input[:k], tc.input[k:]), 0
				check(fmt.Sprintf("fragments split at %d", k))
			}
			body, first, wholeBody = bashStream(tc.input[:7], tc.input[7:20], tc.input[20:]), "", true
			for at = 0; at <= len(body); at++ {
				check(fmt.Sprintf("upstream split at %d", at))
			}
		})
	}
}

// checkGated: an allowed call reaches the client as a tool_use with
// stop_reason tool_use; a refused one as a text block naming the rule, with
// stop_reason end_turn, and no trace of its input.
func checkGated(t *testing.T, got, decision string) {
	t.Helper()
	if !strings.Contains(got, "Running.") || !strings.Contains(got, "message_stop") {
		t.Fatalf("the text around the call did not flow:\n%s", got)
	}
	if decision == "allow" {
		if !strings.Contains(got, `"type":"tool_use"`) || !strings.Contains(got, `"stop_reason":"tool_use"`) {
			t.Fatalf("allowed call not passed unchanged:\n%s", got)
		}
		return
	}
	for _, bad := range []string{`"tool_use"`, "rm -rf", "input_json_delta"} {
		if strings.Contains(got, bad) {
			t.Fatalf("refused call leaked %q:\n%s", bad, got)
		}
	}
	if !strings.Contains(got, `no-recursive-rm`) || !strings.Contains(got, `"stop_reason":"end_turn"`) {
		t.Fatalf("refusal does not name the rule or stop_reason not end_turn:\n%s", got)
	}
}

// A tool-use block bigger than the hold bound is refused, never passed
// undecided, streamed or not; what follows it still flows.
func TestOversizedToolUseIsRefused(t *testing.T) {
	huge := `{"command":"echo ` + strings.Repeat("A", 8<<10) + `"}`
	var frags []string
	for i := 0; i < len(huge); i += 100 {
		frags = append(frags, huge[i:min(i+100, len(huge))])
	}
	body := bashStream(frags...)
	up := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, body)
	}
	e := newEnv(t, actionPolicy, up, withConfig(func(c *Config) { c.ActionHold = 4 << 10 }))
	w := e.do(newRequest("POST", "/v1/messages", streamReq))
	got := w.Body.String()
	if strings.Contains(got, "AAAA") || strings.Contains(got, `"tool_use"`) || !strings.Contains(got, "hold bound") && !strings.Contains(got, "4096 bytes") {
		t.Fatalf("oversized call passed or unexplained:\n%.2000s", got)
	}
	if !strings.Contains(got, `"stop_reason":"end_turn"`) || !strings.Contains(got, "message_stop") {
		t.Fatalf("the rest of the message did not flow:\n%.2000s", got)
	}
	rec, _ := e.audit.last(t)
	if len(rec.Actions) != 1 || rec.Actions[0].Decision != "deny" || !rec.Actions[0].Truncated || !strings.Contains(rec.Actions[0].Reason, "hold bound") {
		t.Fatalf("record %+v", rec.Actions)
	}
	jsonUp := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"m","type":"message","role":"assistant","stop_reason":"tool_use","content":[{"type":"tool_use","id":"toolu_9","name":"Bash","input":`+huge+`}],"usage":{"input_tokens":1,"output_tokens":1}}`)
	}
	e = newEnv(t, actionPolicy, jsonUp, withConfig(func(c *Config) { c.ActionHold = 4 << 10 }))
	w = e.do(newRequest("POST", "/v1/messages", messagesBody))
	if got := w.Body.String(); strings.Contains(got, "AAAA") || strings.Contains(got, `"tool_use"`) || !strings.Contains(got, `"end_turn"`) {
		t.Fatalf("oversized JSON call passed:\n%.2000s", got)
	}
}

// Endless pings inside an open tool block cannot grow the hold: the
// stream is cut at the bound, and the call never passes.
func TestPingsInsideAHeldBlockAreBounded(t *testing.T) {
	ping := "event: ping\ndata: {\"type\": \"ping\"}\n\n"
	body := strings.Replace(bashStream(`{"command":"ls"}`), "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}",
		strings.Repeat(ping, 200)+"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}", 1)
	up := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, body)
	}
	e := newEnv(t, actionPolicy, up, withConfig(func(c *Config) { c.ActionHold = 2 << 10 }))
	got := e.do(newRequest("POST", "/v1/messages", streamReq)).Body.String()
	if strings.Contains(got, `"tool_use"`) || !strings.Contains(got, "exceeded the hold bound") {
		t.Fatalf("client got:\n%.2000s", got)
	}
	rec, _ := e.audit.last(t)
	if len(rec.Actions) != 1 || rec.Actions[0].Decision != "deny" {
		t.Fatalf("record %+v", rec.Actions)
	}
}

// Without action rules nothing is held: the stream is relayed as before.
func TestNoActionRulesNoGate(t *testing.T) {
	body := bashStream(`{"command":"rm -rf /"}`)
	up := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, body)
	}
	e := newEnv(t, allowAll, up)
	if w := e.do(newRequest("POST", "/v1/messages", streamReq)); w.Body.String() != body {
		t.Fatalf("stream changed without action rules:\n%s", w.Body)
	}
}

// A non-streamed answer: a denied call becomes a text block and stop_reason
// end_turn; an allowed one next to it keeps stop_reason tool_use.
func TestJSONToolUseDecisions(t *testing.T) {
	answer := func(blocks ...string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"m","type":"message","role":"assistant","stop_reason":"tool_use","content":[{"type":"text","text":"ok"},`+
				strings.Join(blocks, ",")+`],"usage":{"input_tokens":1,"output_tokens":1}}`)
		}
	}
	rm := `{"type":"tool_use","id":"toolu_rm","name":"Bash","input":{"command":"rm -rf /"}}`
	ls := `{"type":"tool_use","id":"toolu_ls","name":"Bash","input":{"command":"ls"}}`
	e := newEnv(t, actionPolicy, answer(rm))
	var m struct {
		StopReason string `json:"stop_reason"`
		Content    []struct{ Type, Text, ID string }
	}
	if err := json.Unmarshal(e.do(newRequest("POST", "/v1/messages", messagesBody)).Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m.StopReason != "end_turn" || len(m.Content) != 2 || m.Content[1].Type != "text" || !strings.Contains(m.Content[1].Text, "no-recursive-rm") {
		t.Fatalf("%+v", m)
	}
	e = newEnv(t, actionPolicy, answer(rm, ls))
	if err := json.Unmarshal(e.do(newRequest("POST", "/v1/messages", messagesBody)).Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m.StopReason != "tool_use" || len(m.Content) != 3 || m.Content[1].Type != "text" || m.Content[2].ID != "toolu_ls" {
		t.Fatalf("%+v", m)
	}
	rec, _ := e.audit.last(t)
	if len(rec.Actions) != 2 || rec.Actions[0].Decision != "deny" || rec.Actions[0].Rule != "no-recursive-rm" || rec.Actions[1].Decision != "allow" {
		t.Fatalf("%+v", rec.Actions)
	}
	// A repeated key reads differently in the gate and in the client: refused whole.
	e = newEnv(t, actionPolicy, answer(strings.Replace(rm, `"type":"tool_use"`, `"type":"text","type":"tool_use"`, 1)))
	if w := e.do(newRequest("POST", "/v1/messages", messagesBody)); w.Code != statusCut || strings.Contains(w.Body.String(), "rm -rf") {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

// A held call: the text before it reaches the client at once, then pings
// while the reviewer decides; approved, the call is released unchanged;
// denied or timed out, it is replaced. The upstream is not read meanwhile.
func TestHeldToolCallWaitsForTheReviewer(t *testing.T) {
	for _, tc := range []struct {
		name     string
		out      approval.Outcome
		decision string
	}{
		{"approved", approval.Outcome{ID: "ap1", Approved: true, Approver: "uid:0(root)"}, "approved"},
		{"denied", approval.Outcome{ID: "ap2", Approver: "uid:0(root)", Reason: "not today"}, "approval_denied"},
		{"timeout", approval.Outcome{ID: "ap3", Approver: "timeout", TimedOut: true}, "approval_timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			held, decide := make(chan approval.Request, 1), make(chan struct{})
			ap := approverFunc(func(ctx context.Context, r approval.Request) (approval.Outcome, error) {
				held <- r
				<-decide
				return tc.out, nil
			})
			body := bashStream(`{"command":"deploy prod"}`)
			up := func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, body)
			}
			e := newEnv(t, actionPolicy, up, func(c *Config, _ *credentialConfig) { c.Approver, c.ActionPing = ap, 10*time.Millisecond })
			got := heldStream(t, e, held, decide)
			rec, _ := e.audit.last(t)
			if len(rec.Actions) != 1 || rec.Actions[0].Decision != tc.decision || rec.Actions[0].Rule != "hold-deploys" || rec.Actions[0].ApprovalID != tc.out.ID {
				t.Fatalf("record %+v", rec.Actions)
			}
			if passed := strings.Contains(got, `"tool_use"`); passed != (tc.decision == "approved") {
				t.Fatalf("%s: the call passed: %v\n%s", tc.name, passed, got)
			}
		})
	}
}

// heldStream reads a held stream through a real server: what arrives before
// the decision, pings, then the rest once decide is closed.
func heldStream(t *testing.T, e *env, held chan approval.Request, decide chan struct{}) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.gw.ServeHTTP(w, withOrigin(r, &caller.Origin{}))
	}))
	defer srv.Close()
	hr, _ := http.NewRequest("POST", srv.URL+"/v1/messages", strings.NewReader(streamReq))
	hr.Host = apiHost // the SNI the origin carries
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	r := bufio.NewReader(resp.Body)
	var before strings.Builder
	req := <-held
	if req.Rule != "hold-deploys" || !strings.Contains(req.Summary, "deploy prod") {
		t.Errorf("approval request %+v", req)
	}
	for pings := 0; pings < 2; {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended while held: %v\n%s", err, before.String())
		}
		before.WriteString(line)
		if strings.HasPrefix(line, "event: ping") {
			pings++
		}
	}
	if !strings.Contains(before.String(), "Running.") || strings.Contains(before.String(), "deploy prod") {
		t.Fatalf("before the decision the client got:\n%s", before.String())
	}
	close(decide)
	rest, _ := io.ReadAll(r)
	return before.String() + string(rest)
}

// A hostile stream: a tool_use spelled with a JSON escape is still gated,
// and a block started inside a held call cuts the stream instead of
// slipping past the hold.
func TestGateCannotBeSidestepped(t *testing.T) {
	escaped := strings.Replace(bashStream(`{"command":"rm -rf /"}`), `"type":"tool_use"`, `"type":"tool\u005fuse"`, 1)
	second := `event: content_block_start` + "\n" + `data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_02","name":"Bash","input":{"command":"rm -rf /"}}}` + "\n\n"
	interleaved := strings.Replace(bashStream(`{"command":"ls"}`), "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}", strings.TrimSuffix(second, "\n\n")+"\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}", 1)
	twoTypes := strings.Replace(bashStream(`{"command":"rm -rf /"}`), `"content_block":{"type":"tool_use"`, `"content_block":{"type":"text","type":"tool_use"`, 1)
	twoInputs := strings.Replace(bashStream(`{"command":"ls"}`), `"partial_json":"{\"command\":\"ls\"}"`, `"partial_json":"{\"command\":\"ls\"}","partial_json":"{\"command\":\"rm -rf /\"}"`, 1)
	if twoTypes == bashStream(`{"command":"rm -rf /"}`) || !strings.Contains(twoInputs, "rm -rf") {
		t.Fatal("the hostile streams were not built")
	}
	for name, body := range map[string]string{"escaped": escaped, "interleaved": interleaved, "two types": twoTypes, "two inputs": twoInputs} {
		up := func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, body)
		}
		e := newEnv(t, actionPolicy, up)
		got := e.do(newRequest("POST", "/v1/messages", streamReq)).Body.String()
		if strings.Contains(got, "rm -rf") || strings.Contains(got, "toolu_02") {
			t.Errorf("%s: the call reached the client:\n%s", name, got)
		}
		if name != "escaped" && !strings.Contains(got, "event: error") {
			t.Errorf("%s: the stream was not cut:\n%s", name, got)
		}
	}
}

// A stream cut (here: an upstream event over its bound) while a call is
// held: the call never reaches the client and the record says why.
func TestCutWhileHeldIsRecorded(t *testing.T) {
	body := bashStream(`{"command":"echo ` + strings.Repeat("B", 600) + `"}`)
	body = strings.Replace(body, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n", "", 1)
	body = body[:strings.Index(body, "event: message_delta")] + "data: " + strings.Repeat("x", 4<<10)
	up := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, body)
	}
	e := newEnv(t, actionPolicy, up, withConfig(func(c *Config) { c.MaxEvent = 2 << 10 }))
	got := e.do(newRequest("POST", "/v1/messages", streamReq)).Body.String()
	if strings.Contains(got, "BBBB") || !strings.Contains(got, "event: error") {
		t.Fatalf("client got:\n%.3000s", got)
	}
	rec, _ := e.audit.last(t)
	if len(rec.Actions) != 1 || rec.Actions[0].Decision != "deny" || !strings.Contains(rec.Actions[0].Reason, "cut") {
		t.Fatalf("record %+v", rec.Actions)
	}
}

// A reviewer sees a held call's whole input, or its head and its tail: a
// destructive end after a screenful of padding is never cut off.
func TestHeldCallSummaryShowsTheEnd(t *testing.T) {
	e := newEnv(t, actionPolicy, nil)
	ex := e.gw.begin(newRequest("POST", "/v1/messages", ""))
	for _, n := range []int{1 << 10, 64 << 10} {
		cmd := "deploy " + strings.Repeat("é", n) + "; rm -rf ~"
		req := e.gw.actionApproval(ex, &policy.Act{ID: "toolu_1", Tool: "Bash", Input: map[string]any{"command": cmd}}, policy.Decision{Rule: "hold-deploys"})
		if !strings.HasPrefix(req.Summary, `tool call Bash {"command":"deploy éé`) || !strings.HasSuffix(req.Summary, `; rm -rf ~"}`) ||
			!utf8.ValidString(req.Summary) || len(req.Summary) > actionSummaryMax+100 {
			t.Fatalf("%d: summary of %d bytes: %.80q … %q", n, len(req.Summary), req.Summary, req.Summary[max(0, len(req.Summary)-40):])
		}
		if cut := n > actionSummaryMax; cut != strings.Contains(req.Summary, "not shown") {
			t.Errorf("%d: summary says it is cut: %v", n, !cut)
		}
	}
}
