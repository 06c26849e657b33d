package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tidwall/sjson"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/internal/sse"
	"github.com/airlock-dev/airlock/policy"
	"github.com/airlock-dev/airlock/policy/approval"
)

// verdict is how one tool call was decided, for the record and the client.
type verdict struct {
	decision             string // allow | deny | approved | approval_denied | approval_timeout
	rule, reason         string
	message              string // what the client reads in place of a refused call
	approvalID, approver string
}

func (v verdict) allowed() bool { return v.decision == "allow" || v.decision == "approved" }

// act is the block as action rules see it. An input that is not a JSON
// object decides as {}: a rule reading one of its fields fails, and denies.
func (b *heldBlock) act() *policy.Act {
	a := &policy.Act{ID: b.id, Type: "tool_use", Tool: b.name}
	_ = json.Unmarshal(b.rawInput(), &a.Input)
	return a
}

// judge decides a tool call; an empty decision means it needs an approval.
func (g *Gateway) judge(ex *exchange, a *policy.Act) (verdict, policy.Decision) {
	d := ex.engine.DecideAction(&ex.in, a)
	v := verdict{rule: d.Rule, reason: d.Reason}
	switch {
	case d.Action == policy.Allow:
		v.decision = "allow"
	case d.Action == policy.Deny:
		v.decision, v.message = "deny", d.Denial.Message
	case g.cfg.Approver == nil:
		v.decision, v.message = "deny", fmt.Sprintf("Airlock policy rule %q requires an operator's approval for this "+
			"tool call, but approvals are not enabled on this machine; it was not run.", d.Rule)
	}
	return v, d
}

// actionHold is a tool call waiting for an operator through the broker.
type actionHold struct {
	done   chan struct{}
	cancel context.CancelFunc
	rule   string
	reason string
	out    approval.Outcome
	err    error
}

// startHold asks the approval broker about a tool call, in the background:
// a stream keeps pinging its client meanwhile.
func (g *Gateway) startHold(ctx context.Context, ex *exchange, a *policy.Act, d policy.Decision) *actionHold {
	ctx, cancel := context.WithCancel(ctx)
	h := &actionHold{done: make(chan struct{}), cancel: cancel, rule: d.Rule, reason: d.Reason}
	req := g.actionApproval(ex, a, d)
	go func() {
		defer close(h.done)
		h.out, h.err = g.cfg.Approver.Await(ctx, req)
	}()
	return h
}

func (g *Gateway) actionApproval(ex *exchange, a *policy.Act, d policy.Decision) approval.Request {
	in, _ := json.Marshal(a.Input)
	in = scrubBytes(in, ex.secret())
	sum := sha256.Sum256(append([]byte(a.ID+"\x00"+a.Tool+"\x00"), in...))
	q := &ex.in.Request
	return approval.Request{Caller: ex.in.Caller, Rule: d.Rule, Reason: d.Reason, Digest: hex.EncodeToString(sum[:]),
		Method: q.Method, Path: q.Path, Model: q.Model, Summary: actionSummary(a.Tool, in)}
}

// actionSummaryMax bounds what a reviewer is shown of a held call's input.
const actionSummaryMax = 16 << 10

// actionSummary is what the reviewer decides on: the call's whole input when
// it fits, else its head and its tail around a count of what is left out.
// Cut after 240 bytes, as other summaries are, a model could pad "echo hi"
// with a harmless screenful and put "; rm -rf ~" where no one looks.
func actionSummary(tool string, in []byte) string {
	return "tool call " + tool + " " + headTail(string(in), actionSummaryMax)
}

// cancel ends a hold whose stream ended, and waits for the broker to let go.
func (h *actionHold) abandon() verdict {
	h.cancel()
	<-h.done
	return h.verdict()
}

// verdict is the decided hold's outcome: only an approval lets the call through.
func (h *actionHold) verdict() verdict {
	v := verdict{rule: h.rule, reason: h.reason, approvalID: h.out.ID, approver: h.out.Approver}
	switch {
	case h.err == nil && h.out.Approved:
		v.decision = "approved"
		return v
	case h.err == nil && !h.out.TimedOut:
		v.decision = "approval_denied"
		v.message = fmt.Sprintf("Airlock policy rule %q held this tool call for approval and an operator denied it", h.rule)
	default:
		v.decision = "approval_timeout"
		v.message = fmt.Sprintf("Airlock policy rule %q held this tool call for approval and nobody approved it in time", h.rule)
	}
	if h.out.Reason != "" {
		v.message += " (" + h.out.Reason + ")"
	}
	v.message += "; it was not run. Do not retry it unless the user asks."
	return v
}

// oversized refuses a tool call too big to examine.
func oversized(bound int) verdict {
	return verdict{decision: "deny", reason: fmt.Sprintf("the tool call exceeded the %d-byte hold bound", bound),
		message: fmt.Sprintf("Airlock refused this tool call: it exceeded the %d bytes Airlock examines, so it "+
			"could not be checked and was not run.", bound)}
}

// unfinished refuses a tool call the stream ended in the middle of.
func unfinished() verdict {
	return verdict{decision: "deny", reason: "the response ended before the tool call was complete",
		message: "Airlock refused this tool call: the response ended before it was complete; it was not run."}
}

// recordRefused puts a refused tool call in the audit record: the client
// never receives it, so the tracker does not see it.
func (ex *exchange) recordRefused(b *heldBlock, v verdict) {
	in := scrubBytes(b.rawInput(), ex.secret())
	a := audit.Action{ID: b.id, Type: "tool_use", Tool: b.name, Truncated: b.over}
	if len(in) > maxActionInput {
		in, a.Truncated = in[:maxActionInput], true
	}
	a.Input = validJSON(in)
	addAction(&ex.rec, v.apply(a))
}

// apply copies the verdict into an action record.
func (v verdict) apply(a audit.Action) audit.Action {
	a.Decision, a.Rule, a.Reason, a.ApprovalID, a.Approver = v.decision, v.rule, v.reason, v.approvalID, v.approver
	return a
}

// refusalEvents are a text block at index saying why a tool call was refused.
func refusalEvents(index int64, msg string) []sse.Event {
	start, _ := json.Marshal(map[string]any{"type": "content_block_start", "index": index,
		"content_block": map[string]any{"type": "text", "text": ""}})
	delta, _ := json.Marshal(map[string]any{"type": "content_block_delta", "index": index,
		"delta": map[string]any{"type": "text_delta", "text": msg}})
	stop, _ := json.Marshal(map[string]any{"type": "content_block_stop", "index": index})
	var out []sse.Event
	for _, e := range []struct {
		name string
		data []byte
	}{{"content_block_start", start}, {"content_block_delta", delta}, {"content_block_stop", stop}} {
		out = append(out, sse.Parse(sse.AppendEvent(nil, []byte(e.name), e.data, "\n")))
	}
	return out
}

func setJSON(data []byte, path string, v any) ([]byte, error) {
	return sjson.SetBytes(bytes.Clone(data), path, v)
}

var pingEvent = []byte("event: ping\ndata: {\"type\": \"ping\"}\n\n")

func (g *Gateway) actionHold() int {
	if g.cfg.ActionHold > 0 {
		return g.cfg.ActionHold
	}
	return DefaultActionHold
}

func (g *Gateway) actionPing() time.Duration {
	if g.cfg.ActionPing > 0 {
		return g.cfg.ActionPing
	}
	return DefaultActionPing
}
