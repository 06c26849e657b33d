package policy

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/caller"
)

// deployPolicy compiles the example policy shipped in deploy/, so its
// action rules are proven to compile and to decide as documented.
func deployPolicy(t *testing.T) *Engine {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	e, err := Load(filepath.Join(filepath.Dir(file), "..", "deploy", "policy.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestDeployActionRules(t *testing.T) {
	e := deployPolicy(t)
	in := &Input{Caller: caller.Process{UID: 1000, Cwd: "/home/alice/src/app"}, Request: Request{BodyParsed: true}}
	bash := func(cmd string) *Act {
		return &Act{Tool: "Bash", Type: "tool_use", Input: map[string]any{"command": cmd}}
	}
	write := func(tool, p string) *Act {
		return &Act{Tool: tool, Input: map[string]any{"file_path": p, "content": "x"}}
	}
	for _, tc := range []struct {
		name string
		act  *Act
		want Action
		rule string
	}{
		{"echo", bash("echo hello"), Allow, ""},
		{"rm one file", bash("rm notes.txt"), Allow, ""},
		{"npm run format", bash("npm run format -- -r"), Allow, ""},
		{"rm -rf", bash("rm -rf /tmp/x"), RequireApproval, "hold-destructive-commands"},
		{"rm -fr", bash("rm -fr build"), RequireApproval, "hold-destructive-commands"},
		{"rm -r -f", bash("rm -r -f build"), RequireApproval, "hold-destructive-commands"},
		{"rm --recursive", bash("rm --recursive build"), RequireApproval, "hold-destructive-commands"},
		{"after &&", bash("make && /bin/rm -Rf out"), RequireApproval, "hold-destructive-commands"},
		{"kubectl delete", bash("kubectl -n prod delete deploy api"), RequireApproval, "hold-destructive-commands"},
		{"kubectl get", bash("kubectl get pods"), Allow, ""},
		{"terraform destroy", bash("terraform destroy -auto-approve"), RequireApproval, "hold-destructive-commands"},
		{"terraform apply -destroy", bash("terraform apply -destroy"), RequireApproval, "hold-destructive-commands"},
		{"terraform plan", bash("terraform plan"), Allow, ""},
		{"git push --force", bash("git push --force origin main"), RequireApproval, "hold-destructive-commands"},
		{"git push -f", bash("git push -f"), RequireApproval, "hold-destructive-commands"},
		{"git push +ref", bash("git push origin +main"), RequireApproval, "hold-destructive-commands"},
		{"git push", bash("git push origin main"), Allow, ""},
		{"Bash without a command", &Act{Tool: "Bash", Input: map[string]any{"cmd": "rm -rf /"}}, Deny, "hold-destructive-commands"},
		{"Bash command not a string", &Act{Tool: "Bash", Input: map[string]any{"command": 7.0}}, Deny, "hold-destructive-commands"},
		{"write inside", write("Write", "/home/alice/src/app/main.go"), Allow, ""},
		{"edit inside", write("Edit", "/home/alice/src/app/pkg/a.go"), Allow, ""},
		{"write outside", write("Write", "/etc/passwd"), Deny, "writes-outside-the-working-tree"},
		{"write by ..", write("Write", "/home/alice/src/app/../../.bashrc"), Deny, "writes-outside-the-working-tree"},
		{"sibling prefix", write("Edit", "/home/alice/src/app2/x"), Deny, "writes-outside-the-working-tree"},
		{"relative", write("Write", "main.go"), Deny, "writes-outside-the-working-tree"},
		{"read anywhere", &Act{Tool: "Read", Input: map[string]any{"file_path": "/etc/hosts"}}, Allow, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := e.DecideAction(in, tc.act)
			if d.Action != tc.want || d.Rule != tc.rule {
				t.Fatalf("%+v: got %s by %q (%s), want %s by %q", tc.act, d.Action, d.Rule, d.Reason, tc.want, tc.rule)
			}
			if d.Action == Deny && (d.Denial == nil || !strings.Contains(d.Denial.Message, tc.rule)) {
				t.Errorf("denial does not name the rule: %+v", d.Denial)
			}
		})
	}
	if d := e.DecideAction(&Input{Caller: caller.Process{UID: 1000}}, write("Write", "/tmp/x")); d.Action != Deny {
		t.Errorf("an unknown working directory lets a write through: %+v", d)
	}
}

func TestActionRulesSeeCallerAndRequest(t *testing.T) {
	e, err := Compile([]byte(`rules:
  - id: ci-no-shell
    on: action
    when: caller.unit == "ci.service" && request.model.startsWith("claude-haiku") && action.tool == "Bash"
    action: deny
    reason: CI agents run no shell
  - id: everyone
    when: "true"
    action: allow
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !e.HasActionRules() {
		t.Fatal("HasActionRules is false")
	}
	in := &Input{Caller: caller.Process{Unit: "ci.service"}, Request: Request{Model: "claude-haiku-4-5", BodyParsed: true}}
	if d := e.DecideAction(in, &Act{Tool: "Bash"}); d.Action != Deny || !strings.Contains(d.Denial.Message, "CI agents run no shell") {
		t.Errorf("%+v", d)
	}
	if d := e.Decide(in); d.Rule != "everyone" {
		t.Errorf("an action rule decided a request: %+v", d)
	}
	in.Caller.Unit = "dev.service"
	if d := e.DecideAction(in, &Act{Tool: "Bash"}); d.Action != Allow {
		t.Errorf("%+v", d)
	}
}

func TestActionRuleProblems(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"rules:\n  - id: a\n    on: action\n    when: action.tol == 'Bash'\n    action: deny\n", `action has no field "tol"`},
		{"rules:\n  - id: a\n    when: action.tool == 'Bash'\n    action: deny\n", "undeclared reference to 'action'"},
		{"rules:\n  - id: a\n    on: action\n    when: 'true'\n    action: allow\n    credential: ci\n", "credential applies to requests"},
		{"rules:\n  - id: a\n    on: response\n    when: 'true'\n    action: allow\n", `on "response": want request or action`},
		{"default:\n  on: action\n  action: allow\n", "default: takes no on"},
	} {
		ps := Check([]byte(tc.src))
		if len(ps) == 0 || !strings.Contains(Problems(ps).Error(), tc.want) {
			t.Errorf("%q: problems %v, want %q", tc.src, ps, tc.want)
		}
	}
}

func TestWithin(t *testing.T) {
	for _, tc := range []struct {
		p, dir string
		want   bool
	}{
		{"/w/a", "/w", true}, {"/w", "/w", true}, {"/w/", "/w/", true}, {"/w/a/../b", "/w", true},
		{"/w/../etc", "/w", false}, {"/wx", "/w", false}, {"a", "/w", false}, {"/w/a", "", false},
		{"/anything", "/", true}, {"/w/a", "w", false},
	} {
		if got := within(tc.p, tc.dir); got != tc.want {
			t.Errorf("within(%q, %q) = %v", tc.p, tc.dir, got)
		}
	}
}
