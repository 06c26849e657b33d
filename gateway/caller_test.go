package gateway

import (
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/caller"
)

// A key leaked on a caller's command line (curl -H "x-api-key: …") must not
// reach the audit trail, whether or not masking is configured.
func TestAuditedCmdlineHasNoCredential(t *testing.T) {
	const leaked = "sk-ant-api03-FAKE-demo-key-not-real"
	e := newEnv(t, "default:\n  action: allow\n", okJSON)
	r := newRequest("POST", "/v1/messages", messagesBody)
	args := []string{"curl", "-H", "x-api-key: " + leaked, "https://api.anthropic.com/v1/messages"}
	o := &caller.Origin{Process: caller.Process{PID: 42, Comm: "curl", Cmdline: args}}
	if w := e.do(withOrigin(r, o)); w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	rec, _ := e.audit.last(t)
	got := strings.Join(rec.Caller.Cmdline, " ")
	if strings.Contains(got, leaked) || !strings.Contains(got, "[REDACTED:anthropic_api_key:") {
		t.Fatalf("audited cmdline %q", got)
	}
	if o.Process.Cmdline[2] != "x-api-key: "+leaked {
		t.Fatal("the connection's own Origin was modified")
	}
}
