package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/policy/approval"
)

const denyPolicy = `
rules:
  - id: no-opus
    when: request.model.startsWith("claude-opus")
    action: deny
    reason: opus is reserved for the research team
  - id: held
    when: request.model == "claude-held"
    action: require_approval
    reason: needs a look
  - id: limited
    when: caller.exe == "/usr/bin/limited"
    action: allow
    rate_limit: {requests: 1, window: 1h}
  - id: capped
    when: "true"
    action: allow
    max_tokens: 2048
    models: ["claude-sonnet-*", "claude-held"]
`

type apiError struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

func decodeError(t *testing.T, body []byte) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil || e.Type != "error" {
		t.Fatalf("not an API error: %s", body)
	}
	return e
}

func TestDenialsInAPIShape(t *testing.T) {
	cases := []struct {
		name, exe, body string
		status          int
		typ, mentions   string
	}{
		{"rule deny", "", `{"model":"claude-opus-4-1","max_tokens":1}`, 403, "permission_error", `"no-opus"`},
		{"model cap", "", `{"model":"claude-haiku-4-5","max_tokens":1}`, 403, "permission_error", "claude-sonnet-*"},
		{"max_tokens cap", "", `{"model":"claude-sonnet-4-5","max_tokens":9000}`, 403, "permission_error", "at most 2048"},
		{"malformed body, rule needs model", "", `{"model":`, 400, "invalid_request_error", "request.model"},
		{"approval without approver", "", `{"model":"claude-held","max_tokens":1}`, 403, "permission_error", "approvals are not enabled"},
	}
	e := newEnv(t, denyPolicy, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.up.count()
			w := e.do(newRequest("POST", "/v1/messages", tc.body))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			ae := decodeError(t, w.Body.Bytes())
			if ae.Error.Type != tc.typ || !strings.Contains(ae.Error.Message, tc.mentions) {
				t.Errorf("error %+v, want type %s mentioning %q", ae.Error, tc.typ, tc.mentions)
			}
			if e.up.count() != before {
				t.Error("a denied request reached the upstream")
			}
			if w.Header().Get("X-Should-Retry") != "false" {
				t.Error("a policy denial must not invite a retry")
			}
		})
	}
}

func TestRateLimitAnswers429WithRetryAfter(t *testing.T) {
	e := newEnv(t, denyPolicy, nil)
	req := func() *http.Request {
		r := newRequest("POST", "/v1/messages", messagesBody)
		o := &caller.Origin{Process: caller.Process{UID: 1000, Exe: "/usr/bin/limited"}}
		return withOrigin(r, o)
	}
	if w := e.do(req()); w.Code != 200 {
		t.Fatalf("first request: %d %s", w.Code, w.Body)
	}
	w := e.do(req())
	if w.Code != 429 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("second request: %d, retry-after %q", w.Code, w.Header().Get("Retry-After"))
	}
	if ae := decodeError(t, w.Body.Bytes()); ae.Error.Type != "rate_limit_error" || !strings.Contains(ae.Error.Message, `"limited"`) {
		t.Errorf("error %+v", ae.Error)
	}
	if rec, _ := e.audit.last(t); rec.Decision != "deny" || rec.Rule != "limited" || rec.Caller.Exe != "/usr/bin/limited" {
		t.Errorf("record %+v", rec)
	}
}

func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t, allowAll, nil, func(c *Config, _ *credentialConfig) { c.MaxBody = 64 })
	w := e.do(newRequest("POST", "/v1/messages", strings.Repeat("x", 65)))
	if w.Code != 413 || decodeError(t, w.Body.Bytes()).Error.Type != "request_too_large" {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if e.up.count() != 0 {
		t.Error("an oversized request reached the upstream")
	}
}

func TestApprovalOutcomes(t *testing.T) {
	held := `{"model":"claude-held","max_tokens":1}`
	cases := []struct {
		name     string
		out      approval.Outcome
		err      error
		status   int
		decision string
	}{
		{"approved", approval.Outcome{ID: "ap1", Approved: true, Approver: "uid:0(root)"}, nil, 200, "allow"},
		{"denied", approval.Outcome{ID: "ap2", Approver: "uid:0(root)", Reason: "not today"}, nil, 403, "approval_denied"},
		{"timeout", approval.Outcome{ID: "ap3", TimedOut: true, Approver: "timeout"}, nil, 403, "approval_timeout"},
		{"error", approval.Outcome{}, errors.New("broker closed"), 403, "approval_timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got approval.Request
			ap := approverFunc(func(_ context.Context, r approval.Request) (approval.Outcome, error) {
				got = r
				return tc.out, tc.err
			})
			e := newEnv(t, denyPolicy, nil, func(c *Config, _ *credentialConfig) { c.Approver = ap })
			w := e.do(newRequest("POST", "/v1/messages", held))
			if w.Code != tc.status {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if got.Rule != "held" || len(got.Digest) != 64 || got.Model != "claude-held" {
				t.Errorf("approval request %+v", got)
			}
			rec, _ := e.audit.last(t)
			if rec.ApprovalReason != tc.out.Reason {
				t.Errorf("audited approval reason %q, want %q", rec.ApprovalReason, tc.out.Reason)
			}
			if rec.Decision != tc.decision || rec.ApprovalID != tc.out.ID {
				t.Errorf("record decision %q approval %q", rec.Decision, rec.ApprovalID)
			}
			if tc.status == 403 && !strings.Contains(decodeError(t, w.Body.Bytes()).Error.Message, "airlock approvals approve") {
				t.Errorf("denial does not say how to get approval: %s", w.Body)
			}
		})
	}
}

func TestAuditNotReadyFailsClosed(t *testing.T) {
	e := newEnv(t, allowAll, nil)
	e.audit.readyErr = errors.New("disk full")
	w := e.do(newRequest("POST", "/v1/messages", messagesBody))
	if w.Code != 503 || e.up.count() != 0 {
		t.Fatalf("status %d, upstream saw %d", w.Code, e.up.count())
	}
	e.gw.cfg.AuditFailOpen = true
	if w := e.do(newRequest("POST", "/v1/messages", messagesBody)); w.Code != 200 {
		t.Fatalf("fail-open: status %d", w.Code)
	}
}

func TestAuditWriteFailureWithholdsResponse(t *testing.T) {
	e := newEnv(t, allowAll, nil)
	e.audit.writeErr = errors.New("disk full")
	w := e.do(newRequest("POST", "/v1/messages", messagesBody))
	if w.Code != 503 || strings.Contains(w.Body.String(), "msg_1") {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

// Requests without a JSON body (GET, multipart uploads) are decided with the
// body fields empty; only a JSON body that does not parse is refused.
func TestBodylessRequestsUnderBodyRules(t *testing.T) {
	e := newEnv(t, denyPolicy, nil)
	get := newRequest("GET", "/v1/models", "")
	get.Header.Del("Content-Type")
	if w := e.do(get); w.Code != 200 {
		t.Errorf("GET /v1/models: %d %s", w.Code, w.Body)
	}
	up := newRequest("POST", "/v1/files", "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--b--\r\n")
	up.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	if w := e.do(up); w.Code != 200 {
		t.Errorf("multipart upload: %d %s", w.Code, w.Body)
	}
}
