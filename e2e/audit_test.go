package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/internal/poll"
	"github.com/airlock-dev/airlock/internal/testutil"
	"github.com/airlock-dev/airlock/policy/approval"
)

// auditPolicy allows everything (recorded in full) except one model, so a
// burst leaves both kinds of record in the chain.
const auditPolicy = `rules:
  - id: forbidden
    when: request.model == "claude-forbidden"
    action: deny
    reason: e2e forbids this model
default: {action: allow, record: full}
`

// TestAuditE2E: the audit trail of real traffic verifies, counts every
// request, and a recorded stream replays byte for byte.
func TestAuditE2E(t *testing.T) {
	h := Start(t, Options{Policy: auditPolicy})
	t.Run("recording-replays-stream", func(t *testing.T) { auditReplay(t, h) })
	t.Run("verify-after-burst", func(t *testing.T) { auditBurst(t, h) })
}

// auditReplay: `airlock sessions replay` re-streams exactly the SSE bytes the
// client (curl -N) received, events and order included.
func auditReplay(t *testing.T, h *Harness) {
	sid := "e2e-replay-" + randomHex(t)
	body := `{"model":"claude-haiku-4-5","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"replay me"}]}`
	res := h.Run(t, "curl", curlMessages(body, "-N", "-H", "X-Claude-Code-Session-Id: "+sid,
		"-H", "x-fake-scenario: tool_use", "-H", "x-fake-interval-ms: 5")...)
	if res.Code != 0 || !strings.Contains(res.Stdout, "event: message_stop") || !strings.Contains(res.Stdout, "input_json_delta") {
		t.Fatalf("streamed curl: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	var rec *audit.Record
	for _, r := range h.Audit(t) {
		if r.SessionID == sid {
			rec = &r
		}
	}
	if rec == nil || !rec.Stream || rec.Status != 200 || rec.RecordingHash == "" {
		t.Fatalf("audit record of session %s: %+v", sid, rec)
	}
	replay := h.Airlock(t, "sessions", "replay", sid, "--speed", "1000")
	if replay.Code != 0 {
		t.Fatalf("sessions replay: exit %d\n%s", replay.Code, replay.Stderr)
	}
	if replay.Stdout != res.Stdout {
		t.Fatalf("replay differs from what the client received\nclient (%d bytes, %d events):\n%s\nreplay (%d bytes, %d events):\n%s",
			len(res.Stdout), sseEvents(res.Stdout), res.Stdout, len(replay.Stdout), sseEvents(replay.Stdout), replay.Stdout)
	}
	if show := h.Airlock(t, "sessions", "show", sid); show.Code != 0 || !strings.Contains(show.Stdout, "replay me") {
		t.Fatalf("sessions show: exit %d\n%s%s", show.Code, show.Stdout, show.Stderr)
	}
}

func sseEvents(s string) int { return strings.Count(s, "\n\n") }

// auditBurst: concurrent allowed, streamed and denied requests each leave one
// record, and `airlock audit verify` finds the chain intact.
func auditBurst(t *testing.T, h *Harness) {
	before := len(h.Audit(t))
	const n = 12
	var wg sync.WaitGroup
	results := make([]Result, n)
	for i := range n {
		wait := h.Background(t, "curl", burstArgs(i)...)
		wg.Go(func() { results[i] = wait() })
	}
	wg.Wait()
	for i, res := range results {
		want := map[int]string{0: `"type":"message"`, 1: "event: message_stop", 2: "permission_error"}[i%3]
		if res.Code != 0 || !strings.Contains(res.Stdout, want) {
			t.Fatalf("burst request %d: exit %d, want %q\n%s\n%s", i, res.Code, want, res.Stdout, res.Stderr)
		}
	}
	recs := h.Audit(t)
	if len(recs) != before+n {
		t.Fatalf("%d new audit records after %d completed requests", len(recs)-before, n)
	}
	var denied int
	for _, r := range recs[before:] {
		if r.Decision == "deny" && r.Rule == "forbidden" && r.Status == 403 {
			denied++
		}
	}
	if denied != n/3 {
		t.Fatalf("%d denial records, want %d", denied, n/3)
	}
	verify := h.Airlock(t, "audit", "verify")
	if verify.Code != 0 || !strings.Contains(verify.Stdout, "intact") {
		t.Fatalf("audit verify: exit %d\n%s%s", verify.Code, verify.Stdout, verify.Stderr)
	}
	var rep audit.VerifyReport
	h.Airlock(t, "audit", "verify", "--json").JSON(t, &rep)
	if !rep.OK || rep.Records != len(recs) || len(rep.Problems) != 0 {
		t.Fatalf("verify report %+v, want ok over %d records", rep, len(recs))
	}
}

func burstArgs(i int) []string {
	content := fmt.Sprintf("burst %d", i)
	switch i % 3 {
	case 0:
		return curlMessages(`{"model":"claude-haiku-4-5","max_tokens":64,"messages":[{"role":"user","content":"` + content + `"}]}`)
	case 1:
		return curlMessages(`{"model":"claude-haiku-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"`+content+`"}]}`, "-N")
	default:
		return curlMessages(`{"model":"claude-forbidden","max_tokens":64,"messages":[{"role":"user","content":"` + content + `"}]}`)
	}
}

func randomHex(t *testing.T) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// --- helpers of the approval tests ---

// heldCall is a curl started in the background and the approval holding it.
type heldCall struct {
	marker  string // the user content: unique per held request, found in the pending summary
	pending approval.Pending
	done    chan Result
}

// apiReply is what curl printed: the body, then the -w trailer.
type apiReply struct {
	Status      int
	Body        string
	RetryAfter  string
	ShouldRetry string
}

const replyTrailer = "\n%{http_code}|%header{retry-after}|%header{x-should-retry}"

func apprCurl(model, marker string) []string {
	body := `{"model":"` + model + `","max_tokens":64,"messages":[{"role":"user","content":"` + marker + `"}]}`
	// A held request waits for the test's decision: more than curlMessages'
	// 30s under a loaded CI, still inside the harness's 60s hang guard.
	return curlMessages(body, "-w", replyTrailer, "--max-time", "50")
}

// startCurl sends a request in the background.
func startCurl(t *testing.T, h *Harness, model, marker string) *heldCall {
	t.Helper()
	return startCurlArgs(t, h, marker, apprCurl(model, marker))
}

// startCurlArgs runs curl with args in the background; marker is its user content.
func startCurlArgs(t *testing.T, h *Harness, marker string, args []string) *heldCall {
	t.Helper()
	c := &heldCall{marker: marker, done: make(chan Result, 1)}
	wait := h.Background(t, "curl", args...)
	go func() { c.done <- wait() }()
	return c
}

// holdCurl sends a request and waits until it is held.
func holdCurl(t *testing.T, h *Harness, model, marker string) *heldCall {
	t.Helper()
	c := startCurl(t, h, model, marker)
	c.pending = awaitPending(t, h, c)
	return c
}

// awaitPending waits until c's request is held (see awaitHeld).
func awaitPending(t *testing.T, h *Harness, c *heldCall) approval.Pending {
	t.Helper()
	// the excerpt's last user turn, on a line of its own
	return awaitHeld(t, h, "\nuser: "+c.marker+"\n", c.done, 45*time.Second)
}

// awaitHeld polls `airlock approvals list --json` until a held request's
// summary contains needle (bounded: a hang guard, not a timing assertion).
// A client that finishes first (on done) was never held: the test fails.
func awaitHeld(t *testing.T, h *Harness, needle string, done <-chan Result, limit time.Duration) approval.Pending {
	t.Helper()
	var held approval.Pending
	err := poll.Until(context.Background(), limit, func() (bool, error) {
		for _, p := range pendingList(t, h) {
			if strings.Contains(p.Request.Summary+"\n", needle) {
				held = p
				return true, nil
			}
		}
		select {
		case res := <-done:
			return false, fmt.Errorf("%q was answered without a hold: exit %d\n%s\n%s", needle, res.Code, res.Stdout, res.Stderr)
		default:
			return false, nil
		}
	})
	if errors.Is(err, poll.ErrGaveUp) {
		err = fmt.Errorf("no hold for %q within %v", needle, limit)
	}
	if err != nil {
		t.Fatalf("%v\ndaemon log:\n%s", err, h.Log())
	}
	return held
}

// reply waits for the client (its own --max-time bounds the wait).
func (c *heldCall) reply(t *testing.T) apiReply {
	t.Helper()
	return parseApprReply(t, <-c.done)
}

func parseApprReply(t *testing.T, res Result) apiReply {
	t.Helper()
	i := strings.LastIndexByte(res.Stdout, '\n')
	if res.Code != 0 || i < 0 {
		t.Fatalf("curl: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	f := strings.Split(res.Stdout[i+1:], "|")
	status, err := strconv.Atoi(f[0])
	if err != nil || len(f) != 3 {
		t.Fatalf("curl trailer %q: %v", res.Stdout[i+1:], err)
	}
	return apiReply{Status: status, Body: res.Stdout[:i], RetryAfter: f[1], ShouldRetry: f[2]}
}

// wantMessage: the upstream answered (200, a Messages reply quoting marker).
func wantMessage(t *testing.T, r apiReply, marker string) {
	t.Helper()
	var msg struct {
		Type    string `json:"type"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal([]byte(r.Body), &msg); r.Status != 200 || err != nil || msg.Type != "message" ||
		len(msg.Content) == 0 || !strings.Contains(msg.Content[0].Text, marker) {
		t.Fatalf("want the upstream's answer to %q, got %d %s (%v)", marker, r.Status, r.Body, err)
	}
}

// wantRefusal: a 403 permission_error in the API's shape whose message says each of want.
func wantRefusal(t *testing.T, r apiReply, want ...string) {
	t.Helper()
	var e struct {
		Type  string `json:"type"`
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.Body), &e); r.Status != 403 || err != nil || e.Type != "error" || e.Error.Type != "permission_error" {
		t.Fatalf("want 403 permission_error, got %d %s (%v)", r.Status, r.Body, err)
	}
	for _, w := range want {
		if !strings.Contains(e.Error.Message, w) {
			t.Fatalf("refusal message lacks %q: %s", w, e.Error.Message)
		}
	}
}

// decideOK runs `airlock approvals approve|deny ID [flags]`, which must succeed.
func decideOK(t *testing.T, h *Harness, verb, id string, flags ...string) {
	t.Helper()
	res := h.Airlock(t, append([]string{"approvals", verb, id}, flags...)...)
	if res.Code != 0 {
		t.Fatalf("airlock approvals %s %s: exit %d\n%s%s", verb, id, res.Code, res.Stdout, res.Stderr)
	}
}

// airlockNoFatal is h.Airlock for other goroutines: harness errors are Code -1.
func airlockNoFatal(h *Harness, args ...string) Result {
	return runNoFatal(60*time.Second, bins.Airlock, append([]string{"--config", h.ConfigFile}, args...)...)
}

// upstreamBodiesWith counts the requests the fake API received whose body
// carries marker as the user content.
func upstreamBodiesWith(h *Harness, marker string) int {
	n := 0
	for _, r := range h.Upstream.Requests() {
		if strings.Contains(string(r.Body), `"content":"`+marker+`"`) {
			n++
		}
	}
	return n
}

// recordOf is the one audit record of the request held under approval id
// (not the requests a window opened by id let through).
func recordOf(t *testing.T, h *Harness, id string) audit.Record {
	t.Helper()
	var got []audit.Record
	for _, r := range h.Audit(t) {
		if r.ApprovalID == id && !strings.HasPrefix(r.Approver, "window:") {
			got = append(got, r)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d audit records for approval %s, want 1: %+v", len(got), id, got)
	}
	return got[0]
}

// hookRecorder is a loopback webhook endpoint that keeps every body it gets.
type hookRecorder struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

func startHookRecorder(t *testing.T) *hookRecorder {
	r := &hookRecorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

// await returns the first body naming id (delivery is asynchronous: a bounded poll).
func (r *hookRecorder) await(t *testing.T, id string) []byte {
	t.Helper()
	var body []byte
	testutil.Eventually(t, 30*time.Second, "a webhook announcing approval "+id, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, b := range r.bodies {
			if bytes.Contains(b, []byte(id)) {
				body = b
				return true
			}
		}
		return false
	})
	return body
}
