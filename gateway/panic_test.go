package gateway

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/policy/approval"
)

// Issue 11, item 3: a panic while serving one request is that request's 500
// api_error and an audit record; the server goes on serving the next one.
// (Without the gateway's recover, net/http drops the connection unanswered
// and unaudited.)
func TestPanicIsOneRequestsError(t *testing.T) {
	held := "rules:\n  - id: held\n    when: request.model == \"claude-held\"\n    action: require_approval\n" +
		"  - id: rest\n    when: \"true\"\n    action: allow\n"
	boom := approverFunc(func(context.Context, approval.Request) (approval.Outcome, error) {
		panic("approver bug while holding sk-ant-api03-FAKE-in-a-panic-value")
	})
	s := newStack(t, held, nil, "h2", func(c *Config, _ *credentialConfig) { c.Approver = boom })
	for _, proto := range []string{"h2", "http1"} {
		r, _ := http.NewRequest("POST", "https://"+apiHost+"/v1/messages", strings.NewReader(`{"model":"claude-held","max_tokens":1}`))
		resp := s.send(t, proto, r)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 500 || decodeError(t, body).Error.Type != "api_error" {
			t.Fatalf("%s: status %d: %s", proto, resp.StatusCode, body)
		}
		if rec, _ := s.audit.last(t); rec.Decision != "error" || rec.Status != 500 || rec.Rule != "held" {
			t.Fatalf("%s: audit record %+v", proto, rec)
		}
		r, _ = http.NewRequest("POST", "https://"+apiHost+"/v1/messages", strings.NewReader(messagesBody))
		if resp := s.send(t, proto, r); resp.StatusCode != 200 {
			t.Fatalf("%s: the next request: status %d", proto, resp.StatusCode)
		}
	}
}
