package cli

import (
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/policy/approval"
)

func TestApprovalsListShowApproveWithWindow(t *testing.T) {
	d := startDaemon(t)
	id, done := d.hold(t, "risky-tools")
	r := d.run(t, "approvals", "list")
	for _, want := range []string{"ID", "EXPIRES IN", id, "alice(1000) /usr/bin/python3 pid 4242", "risky-tools", "claude-opus-4-1"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("list lacks %q:\n%s", want, r.out)
		}
	}
	var list []approval.Pending
	d.run(t, "--json", "approvals", "list").decodeJSON(t, &list)
	if len(list) != 1 || list[0].ID != id {
		t.Fatalf("--json list = %+v", list)
	}
	r = d.run(t, "approvals", "show", id)
	if r.code != 0 || !strings.Contains(r.out, "needs a human") || !strings.Contains(r.out, "abc123") {
		t.Errorf("show: code %d\n%s%s", r.code, r.out, r.err)
	}
	r = d.run(t, "approvals", "approve", id, "--for", "30m", "--reason", "incident 4411")
	if r.code != 0 || !strings.Contains(r.out, "approved "+id) || !strings.Contains(r.out, "until") {
		t.Fatalf("approve: code %d\n%s%s", r.code, r.out, r.err)
	}
	o := outcome(t, done)
	if !o.Approved || o.Reason != "incident 4411" || o.Until.IsZero() {
		t.Errorf("outcome = %+v, want approved with a window", o)
	}
}

func TestApprovalsDenyAndUnknownID(t *testing.T) {
	d := startDaemon(t)
	id, done := d.hold(t, "risky")
	var res struct {
		ID       string
		Approved bool
		Approver string
	}
	r := d.run(t, "--json", "approvals", "deny", id, "--reason", "not during the freeze")
	r.decodeJSON(t, &res)
	if res.ID != id || res.Approved || res.Approver == "" {
		t.Errorf("deny --json = %+v", res)
	}
	if o := outcome(t, done); o.Approved || o.Reason != "not during the freeze" {
		t.Errorf("outcome = %+v, want denied with the reason", o)
	}
	// A late decision is told who decided, not "not found".
	d.run(t, "approvals", "approve", id).wantOneLineError(t, ExitFailure, "already denied by uid:0(root)")
	d.run(t, "approvals", "show", "nope").wantOneLineError(t, ExitFailure, "airlock approvals list")
	d.run(t, "approvals", "approve").wantOneLineError(t, ExitUsage, "takes ID")
	d.run(t, "approvals", "approve", "x", "--for", "soon").wantOneLineError(t, ExitUsage, "invalid argument")
}

func TestCmdlineCredentialsAreMaskedOnScreen(t *testing.T) {
	got := joinArgs([]string{"curl", "-H", "x-api-key: sk-ant-api03-FAKE-leaked-key-in-the-demo-app", "https://api.anthropic.com"})
	if strings.Contains(got, "FAKE-leaked") || !strings.Contains(got, "curl -H x-api-key:") {
		t.Errorf("joinArgs = %q: the embedded key must not be printed", got)
	}
}

// A held tool call whose command, and a caller whose name and arguments, are
// dressed to look harmless on a terminal (a carriage return and an erase-line
// sequence printing "echo hi" over "rm -rf ~", a title-setting escape, a
// right-to-left override) are shown with those characters escaped.
func TestApprovalsShowWhatAHostileCallerHides(t *testing.T) {
	d := startDaemon(t)
	id, done := d.holdRequest(t, approval.Request{
		Caller: caller.Process{PID: 4242, UID: 1000, User: "alice", Exe: "/usr/bin/python3\x1b]0;trusted\a",
			Cmdline: []string{"python3", "agent.py\r\x1b[2Kls"}},
		Rule: "hold-shell", Reason: "a destructive command", Method: "POST", Path: "/v1/messages", Model: "m\u202e",
		Summary: `tool call Bash {"command":"rm -rf ~"}` + "\r\x1b[2K" + `tool call Bash {"command":"echo hi"}`})
	for _, args := range [][]string{{"approvals", "list"}, {"approvals", "show", id}} {
		r := d.run(t, args...)
		if r.code != 0 || strings.ContainsAny(r.out, "\r\x1b\a\u202e") {
			t.Fatalf("%v printed what the terminal obeys: %q", args, r.out)
		}
		for _, want := range []string{`\x1b[2K`, `python3\x1b]0;trusted\x07`, `m\u202e`} {
			if !strings.Contains(r.out, want) {
				t.Errorf("%v lacks %q:\n%s", args, want, r.out)
			}
		}
	}
	d.run(t, "approvals", "deny", id)
	outcome(t, done)
}
