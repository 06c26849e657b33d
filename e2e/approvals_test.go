package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/airlock-dev/airlock/policy/approval"
)

// apprPolicy holds two models under two rules. Just-in-time windows are
// opened only under risky-window: a window is per caller and rule, and every
// curl of the shared daemon is the same caller, so a window on risky-model
// would let the other subtests' requests through without a hold.
const apprPolicy = `rules:
  - id: risky-model
    when: request.model == "claude-risky"
    action: require_approval
    reason: risky models need an operator
    record: full
  - id: risky-window
    when: request.model == "claude-risky-window"
    action: require_approval
    reason: windowed risky model
    record: full
default: {action: allow, record: full}
`

const (
	riskyModel  = "claude-risky"
	windowModel = "claude-risky-window"
	rootID      = "uid:0(root)" // how the admin socket names a root approver
)

// TestApproval runs every approval flow against one daemon (approvals time
// out after the default two minutes there: only a hang guard).
func TestApproval(t *testing.T) {
	jsonHook, slackHook := startHookRecorder(t), startHookRecorder(t)
	h := Start(t, Options{Policy: apprPolicy, Config: fmt.Sprintf("approvals:\n  webhooks:\n"+
		"    - {url: %q, format: json}\n    - {url: %q, format: slack}\n", jsonHook.URL, slackHook.URL)})
	t.Run("webhooks-announce", func(t *testing.T) { apprWebhooks(t, h, jsonHook, slackHook) })
	t.Run("embedded-key-not-shown", func(t *testing.T) { apprNoEmbeddedKey(t, h, jsonHook, slackHook) })
	t.Run("approve", func(t *testing.T) { apprApprove(t, h) })
	t.Run("approve-stream", func(t *testing.T) { apprStream(t, h) })
	t.Run("deny-with-reason", func(t *testing.T) { apprDeny(t, h) })
	t.Run("single-use", func(t *testing.T) { apprSingleUse(t, h) })
	t.Run("jit-window", func(t *testing.T) { apprWindow(t, h) })
	t.Run("concurrent", func(t *testing.T) { apprConcurrent(t, h) })
	t.Run("deny-then-approve", func(t *testing.T) { apprDenyThenApprove(t, h) })
	t.Run("deny-wins-race", func(t *testing.T) { apprRace(t, h) })
}

// apprWebhooks: each hold is announced to the generic JSON and the
// Slack-compatible webhook with the command that approves it.
func apprWebhooks(t *testing.T, h *Harness, jsonHook, slackHook *hookRecorder) {
	c := holdCurl(t, h, riskyModel, "announce-me")
	var ann approval.Announcement
	if err := json.Unmarshal(jsonHook.await(t, c.pending.ID), &ann); err != nil || ann.Event != "approval.pending" ||
		ann.Pending.ID != c.pending.ID || ann.Pending.Request.Rule != "risky-model" || ann.Pending.Command != c.pending.Command {
		t.Errorf("JSON announcement %+v (%v)", ann, err)
	}
	var slack struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(slackHook.await(t, c.pending.ID), &slack); err != nil ||
		!strings.Contains(slack.Text, "airlock approvals approve "+c.pending.ID) {
		t.Errorf("Slack announcement %+v (%v)", slack, err)
	}
	decideOK(t, h, "deny", c.pending.ID)
	wantRefusal(t, c.reply(t), "airlock approvals approve "+c.pending.ID)
}

// apprNoEmbeddedKey: the key a client embeds (here in curl's argv) is what
// Airlock exists to keep away from others; operator views of a hold (list,
// show, webhooks to a chat service) and the audit trail carry its class and
// fingerprint, never the key itself.
func apprNoEmbeddedKey(t *testing.T, h *Harness, hooks ...*hookRecorder) {
	c := holdCurl(t, h, riskyModel, "key-in-argv")
	argv := c.pending.Request.Caller.Cmdline
	if !slices.ContainsFunc(argv, func(a string) bool { return strings.HasPrefix(a, "x-api-key: ") }) {
		t.Fatalf("the hold does not show curl's arguments (nothing to check): %q", argv)
	}
	views := map[string]string{
		"approvals list --json": h.Airlock(t, "approvals", "list", "--json").Stdout,
		"approvals show --json": h.Airlock(t, "approvals", "show", c.pending.ID, "--json").Stdout,
		"approvals show":        h.Airlock(t, "approvals", "show", c.pending.ID).Stdout,
	}
	for i, hook := range hooks {
		views[fmt.Sprintf("webhook %d", i)] = string(hook.await(t, c.pending.ID))
	}
	decideOK(t, h, "deny", c.pending.ID)
	wantRefusal(t, c.reply(t), "airlock approvals approve")
	views["audit export"] = h.Airlock(t, "audit", "export", "--format", "jsonl").Stdout
	for name, v := range views {
		if strings.Contains(v, leakedCurlKey) {
			t.Errorf("%s shows the client's embedded key:\n%s", name, v)
		}
	}
}

// apprApprove: held, approved by root with the CLI, answered by the upstream,
// and the audit record names the approval and root.
func apprApprove(t *testing.T, h *Harness) {
	c := holdCurl(t, h, riskyModel, "approve-me")
	if c.pending.Request.Rule != "risky-model" || !strings.HasSuffix(c.pending.Request.Caller.Exe, "curl") ||
		c.pending.Command != "airlock approvals approve "+c.pending.ID {
		t.Errorf("pending approval %+v", c.pending)
	}
	if got := upstreamBodiesWith(h, "approve-me"); got != 0 {
		t.Fatalf("a held request reached the upstream %d time(s) before approval", got)
	}
	show := h.Airlock(t, "approvals", "show", c.pending.ID)
	if show.Code != 0 || !strings.Contains(show.Stdout, "risky-model") {
		t.Errorf("approvals show: exit %d\n%s%s", show.Code, show.Stdout, show.Stderr)
	}
	decideOK(t, h, "approve", c.pending.ID, "--reason", "e2e approves")
	r := c.reply(t)
	wantMessage(t, r, "approve-me")
	if got := upstreamBodiesWith(h, "approve-me"); got != 1 {
		t.Fatalf("the upstream got the approved request %d times, want 1", got)
	}
	rec := recordOf(t, h, c.pending.ID)
	if rec.Decision != "allow" || rec.Approver != rootID || rec.Status != 200 || rec.Rule != "risky-model" {
		t.Fatalf("audit record of an approved request: %+v", rec)
	}
}

// apprStream: a held stream, once approved, reaches the client in full and
// its recording replays to the same bytes.
func apprStream(t *testing.T, h *Harness) {
	sid := "e2e-held-stream-" + randomHex(t)
	body := `{"model":"` + riskyModel + `","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"held-stream"}]}`
	c := startCurlArgs(t, h, "held-stream", curlMessages(body, "-N", "--max-time", "50", "-H", "X-Claude-Code-Session-Id: "+sid))
	c.pending = awaitPending(t, h, c)
	decideOK(t, h, "approve", c.pending.ID)
	res := <-c.done
	if res.Code != 0 || !strings.HasPrefix(res.Stdout, "event: message_start") || !strings.Contains(res.Stdout, "event: message_stop") {
		t.Fatalf("approved stream: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	if rec := recordOf(t, h, c.pending.ID); !rec.Stream || rec.SessionID != sid || rec.Approver != rootID {
		t.Fatalf("audit record of the approved stream: %+v", rec)
	}
	replay := h.Airlock(t, "sessions", "replay", sid, "--speed", "1000")
	if replay.Code != 0 || replay.Stdout != res.Stdout {
		t.Fatalf("replay (exit %d) differs from the stream the client got\nclient:\n%s\nreplay:\n%s%s", replay.Code, res.Stdout, replay.Stdout, replay.Stderr)
	}
}

// apprDeny: the client gets 403 permission_error saying how to get approval
// and why; the audit says denied and by whom.
func apprDeny(t *testing.T, h *Harness) {
	c := holdCurl(t, h, riskyModel, "deny-me")
	decideOK(t, h, "deny", c.pending.ID, "--reason", "not during the freeze")
	r := c.reply(t)
	wantRefusal(t, r, "not during the freeze", "airlock approvals approve "+c.pending.ID)
	if got := upstreamBodiesWith(h, "deny-me"); got != 0 {
		t.Fatalf("a denied request reached the upstream %d time(s)", got)
	}
	rec := recordOf(t, h, c.pending.ID)
	if rec.Decision != "approval_denied" || rec.Approver != rootID || rec.Status != 403 {
		t.Fatalf("audit record of a denied request: %+v", rec)
	}
}

// apprSingleUse: an approval without a window answers one request only; the
// identical request sent again is held under a new id.
func apprSingleUse(t *testing.T, h *Harness) {
	first := holdCurl(t, h, riskyModel, "twice")
	decideOK(t, h, "approve", first.pending.ID)
	wantMessage(t, first.reply(t), "twice")
	second := holdCurl(t, h, riskyModel, "twice")
	if second.pending.ID == first.pending.ID || second.pending.Request.Digest != first.pending.Request.Digest {
		t.Fatalf("second hold %+v, first %+v: want a new id for the same digest", second.pending, first.pending)
	}
	decideOK(t, h, "approve", second.pending.ID)
	wantMessage(t, second.reply(t), "twice")
	if a, b := recordOf(t, h, first.pending.ID), recordOf(t, h, second.pending.ID); a.ID == b.ID {
		t.Fatalf("both requests share audit record %d", a.ID)
	}
}

// apprWindow: `approve --for 30m` lets the next request of the same caller
// and rule through at once, recorded as a window grant; another rule still holds.
func apprWindow(t *testing.T, h *Harness) {
	c := holdCurl(t, h, windowModel, "open-window")
	res := h.Airlock(t, "approvals", "approve", c.pending.ID, "--for", "30m", "--reason", "incident 4411")
	if res.Code != 0 || !strings.Contains(res.Stdout, "without a hold until") {
		t.Fatalf("approve --for: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	wantMessage(t, c.reply(t), "open-window")
	if rec := recordOf(t, h, c.pending.ID); rec.Approver != rootID {
		t.Fatalf("record of the request that opened the window: %+v", rec)
	}
	// Sent synchronously: a hold would block it until curl's --max-time.
	next := parseApprReply(t, h.Run(t, "curl", apprCurl(windowModel, "inside-window")...))
	wantMessage(t, next, "inside-window")
	var granted int
	for _, rec := range h.Audit(t) {
		if rec.ApprovalID == c.pending.ID && rec.Approver == "window:"+c.pending.ID && rec.Decision == "allow" {
			granted++
		}
	}
	if granted != 1 {
		t.Fatalf("%d audit record(s) granted by window %s, want 1\n%+v", granted, c.pending.ID, h.Audit(t))
	}
	other := holdCurl(t, h, riskyModel, "other-rule") // the window is for risky-window only
	decideOK(t, h, "deny", other.pending.ID)
	wantRefusal(t, other.reply(t), "airlock approvals approve")
}

// apprConcurrent: three requests held at once, each decided on its own,
// each client gets its own outcome.
func apprConcurrent(t *testing.T, h *Harness) {
	calls := make([]*heldCall, 3)
	for i := range calls {
		calls[i] = startCurl(t, h, riskyModel, fmt.Sprintf("parallel-%d", i))
	}
	for _, c := range calls {
		c.pending = awaitPending(t, h, c)
	}
	verbs := []string{"approve", "deny", "approve"}
	var wg sync.WaitGroup
	outs := make([]Result, len(calls))
	for i, c := range calls {
		wg.Go(func() { outs[i] = airlockNoFatal(h, "approvals", verbs[i], c.pending.ID) })
	}
	wg.Wait()
	for i, c := range calls {
		if outs[i].Code != 0 {
			t.Fatalf("%s %s: exit %d\n%s", verbs[i], c.pending.ID, outs[i].Code, outs[i].Stderr)
		}
		r, marker := c.reply(t), c.marker
		if verbs[i] == "approve" {
			wantMessage(t, r, marker)
			continue
		}
		wantRefusal(t, r, "airlock approvals approve "+c.pending.ID)
		if strings.Contains(r.Body, "parallel-0") || strings.Contains(r.Body, "parallel-2") {
			t.Fatalf("the denied client got another's answer: %s", r.Body)
		}
	}
	if upstreamBodiesWith(h, "parallel-1") != 0 || upstreamBodiesWith(h, "parallel-0") != 1 || upstreamBodiesWith(h, "parallel-2") != 1 {
		t.Fatalf("the upstream got the wrong requests: %d %d %d", upstreamBodiesWith(h, "parallel-0"),
			upstreamBodiesWith(h, "parallel-1"), upstreamBodiesWith(h, "parallel-2"))
	}
}

// apprDenyThenApprove: once denied, an approval of the same id is refused by
// the CLI with a clear error, and the client stays refused.
func apprDenyThenApprove(t *testing.T, h *Harness) {
	c := holdCurl(t, h, riskyModel, "deny-first")
	decideOK(t, h, "deny", c.pending.ID, "--reason", "denied first")
	wantDecisionRefused(t, h.Airlock(t, "approvals", "approve", c.pending.ID), c.pending.ID, false)
	wantRefusal(t, c.reply(t), "denied first")
	if rec := recordOf(t, h, c.pending.ID); rec.Decision != "approval_denied" || rec.Approver != rootID {
		t.Fatalf("audit record: %+v", rec)
	}
}

// apprRace: approve and deny race on one id. Whatever the interleaving, the
// contract holds: an accepted denial means the client is refused (deny wins
// even over an earlier approval), and a refused denial means it was served.
func apprRace(t *testing.T, h *Harness) {
	for round := range 4 {
		c := holdCurl(t, h, riskyModel, fmt.Sprintf("race-%d", round))
		var approve, deny Result
		decide := []func(){
			func() { approve = airlockNoFatal(h, "approvals", "approve", c.pending.ID) },
			func() { deny = airlockNoFatal(h, "approvals", "deny", c.pending.ID, "--reason", "race") },
		}
		var wg sync.WaitGroup
		wg.Go(decide[round%2]) // alternate which starts first, so both outcomes occur
		wg.Go(decide[1-round%2])
		wg.Wait()
		r, rec := c.reply(t), recordOf(t, h, c.pending.ID)
		t.Logf("round %d: approve exit %d, deny exit %d, client %d", round, approve.Code, deny.Code, r.Status)
		switch {
		case approve.Code < 0 || deny.Code < 0:
			t.Fatalf("running the CLI: %s %s", approve.Stderr, deny.Stderr)
		case deny.Code == 0:
			wantRefusal(t, r, "airlock approvals approve")
			wantDecisionRefused(t, approve, c.pending.ID, approve.Code == 0)
			if rec.Decision != "approval_denied" || rec.Approver != rootID {
				t.Fatalf("deny accepted but audit says %+v", rec)
			}
		case approve.Code == 0:
			wantMessage(t, r, c.marker)
			wantDecisionRefused(t, deny, c.pending.ID, false)
			if rec.Decision != "allow" || rec.Approver != rootID {
				t.Fatalf("approval won but audit says %+v", rec)
			}
		default:
			t.Fatalf("both decisions refused:\n%s\n%s", approve.Stderr, deny.Stderr)
		}
	}
}

// wantDecisionRefused: the CLI refused a decision on id (unless both
// decisions were accepted: a denial may override an approval the held request
// has not acted on yet) with one clear line: 409 "already decided" while the
// held request has not resumed, 404 "not found" once it consumed its outcome.
func wantDecisionRefused(t *testing.T, res Result, id string, bothAccepted bool) {
	t.Helper()
	if bothAccepted {
		return
	}
	if res.Code != 1 || !strings.Contains(res.Stderr, id) ||
		!(strings.Contains(res.Stderr, "already decided") || strings.Contains(res.Stderr, "not found")) {
		t.Fatalf("a second decision on %s: exit %d\nstdout: %s\nstderr: %s", id, res.Code, res.Stdout, res.Stderr)
	}
	t.Logf("refused as: %s", strings.TrimSpace(res.Stderr))
}

// TestApprovalTimeout: nobody decides; the hold expires into a non-retryable
// 403 that says so, the audit records a timeout, and a late approval is refused.
// The test never races the 3s expiry: it learns the approval id afterwards,
// from the audit record.
func TestApprovalTimeout(t *testing.T) {
	h := Start(t, Options{Policy: apprPolicy, Config: "approvals: {timeout: 3s}\n"})
	c := startCurl(t, h, riskyModel, "nobody-decides")
	r := c.reply(t)
	rec := h.LastAudit(t)
	if rec.Decision != "approval_timeout" || rec.Approver != "timeout" || rec.ApprovalID == "" || rec.Status != 403 {
		t.Fatalf("audit record of a timed-out hold: %+v", rec)
	}
	wantRefusal(t, r, "in time", "airlock approvals approve "+rec.ApprovalID)
	if r.RetryAfter != "" || strings.EqualFold(r.ShouldRetry, "true") {
		t.Fatalf("a timeout invites a retry: retry-after %q x-should-retry %q", r.RetryAfter, r.ShouldRetry)
	}
	wantDecisionRefused(t, h.Airlock(t, "approvals", "approve", rec.ApprovalID), rec.ApprovalID, false)
	if p := pendingList(t, h); len(p) != 0 {
		t.Fatalf("still pending after the timeout: %+v", p)
	}
	if got := upstreamBodiesWith(h, "nobody-decides"); got != 0 {
		t.Fatalf("a timed-out request reached the upstream %d time(s)", got)
	}
}

// pendingList is `airlock approvals list --json`.
func pendingList(t *testing.T, h *Harness) []approval.Pending {
	t.Helper()
	res := h.Airlock(t, "approvals", "list", "--json")
	if res.Code != 0 {
		t.Fatalf("airlock approvals list: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	var p []approval.Pending
	res.JSON(t, &p)
	return p
}
