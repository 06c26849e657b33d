package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/gateway"
	"github.com/airlock-dev/airlock/internal/fakeapi"
	"github.com/airlock-dev/airlock/internal/testutil"
	"github.com/airlock-dev/airlock/policy/approval"
)

// gatePolicy: recursive deletes of anything precious are refused, creating
// files waits for a reviewer, everything else (echo, other deletes) runs.
const gatePolicy = `rules:
  - id: no-recursive-delete
    on: action
    when: action.tool == "Bash" && action.input.command.matches(r"rm\s+-rf\s.*precious")
    action: deny
    reason: recursive deletes are not allowed on this machine
  - id: review-new-files
    on: action
    when: action.tool == "Bash" && action.input.command.startsWith("touch ")
    action: require_approval
    reason: creating files needs a reviewer
default: {action: allow, record: full}
`

// agent is one real agent program the fake model drives with "RUN: <cmd>".
type agent struct {
	name   string
	leaked string
	exe    string // the process that calls the API, as the audit names it
	run    func(t *testing.T, h *Harness, dir, prompt string) Result
}

func agents(t *testing.T) []agent {
	testutil.Require(t, bins.NodeDir != "", bins.NodeErr)
	node := func(mode string) func(t *testing.T, h *Harness, dir, prompt string) Result {
		return func(t *testing.T, h *Harness, dir, prompt string) Result {
			return h.RunEnv(t, agentEnv(t), "env", "-C", dir, "node", filepath.Join(bins.NodeDir, "agent.mjs"), mode, prompt)
		}
	}
	return []agent{
		{"claude-code", "sk-ant-api03-FAKE-leaked-key-in-claude-code", "claude", claudeCode},
		{"agent-sdk", "sk-ant-api03-FAKE-leaked-key-in-node-agent", "claude", node("agent-sdk")}, // query() runs Claude Code
		{"tool-runner", "sk-ant-api03-FAKE-leaked-key-in-node-agent", "node", node("tool-runner")},
	}
}

// claudeCode runs the real Claude Code CLI, unmodified: default base URL, a
// key in ANTHROPIC_API_KEY, Bash allowed without asking, in dir.
func claudeCode(t *testing.T, h *Harness, dir, prompt string) Result {
	env := append(agentEnv(t), "ANTHROPIC_API_KEY=sk-ant-api03-FAKE-leaked-key-in-claude-code")
	return h.RunEnv(t, env, "env", "-C", dir, filepath.Join(bins.NodeDir, "node_modules", ".bin", "claude"),
		"-p", prompt, "--model", "fake-bash", "--allowedTools", "Bash")
}

// agentEnv is a scratch home and temporary directory (Claude Code keeps a
// directory per working directory under TMPDIR, never removed) and Claude
// Code's switches for a machine that reaches nothing but the API.
func agentEnv(t *testing.T) []string {
	return []string{"HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir(), "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1", "DISABLE_TELEMETRY=1",
		"DISABLE_AUTOUPDATER=1", "DISABLE_ERROR_REPORTING=1"}
}

// TestAgentActionsAreGated drives Claude Code, the Agent SDK's query() and
// the TypeScript SDK's tool runner through the captured cgroup: the fake
// model tells each to run a Bash command; Airlock lets echo run, refuses
// rm -rf (the file survives, the agent says why, the audit names the rule),
// and holds touch until a reviewer approves (it runs) or denies (it never
// runs); with a short approval timeout, a hold nobody decides never runs.
func TestAgentActionsAreGated(t *testing.T) {
	h := Start(t, Options{Policy: gatePolicy, Timeout: 3 * time.Minute})
	for _, a := range agents(t) {
		t.Run(a.name, func(t *testing.T) {
			t.Run("allowed", func(t *testing.T) { gateAllowed(t, h, a) })
			t.Run("denied", func(t *testing.T) { gateDenied(t, h, a) })
			t.Run("control", func(t *testing.T) { gateControl(t, h, a) })
			t.Run("approved", func(t *testing.T) { gateHeld(t, h, a, "approve") })
			t.Run("approval-denied", func(t *testing.T) { gateHeld(t, h, a, "deny") })
		})
	}
	t.Run("metrics", func(t *testing.T) { checkActionMetrics(t, h) })
	// A hold nobody decides is denied when the approval expires.
	short := Start(t, Options{Policy: gatePolicy, Timeout: 3 * time.Minute, Config: "approvals:\n  timeout: 3s\n"})
	for _, a := range agents(t) {
		t.Run(a.name+"/approval-timeout", func(t *testing.T) { gateTimeout(t, short, a) })
	}
}

// checkActionMetrics: the metric counts the calls per tool and decision
// (one of each decision per agent).
func checkActionMetrics(t *testing.T, h *Harness) {
	res := h.exec(t, "curl", "-sS", "--unix-socket", filepath.Join(h.RuntimeDir, "admin.sock"), "http://airlock/metrics")
	for _, d := range []string{"allow", "deny", "approved", "approval_denied"} {
		if !regexp.MustCompile(`airlock_actions_total\{decision="` + d + `",tool="Bash"\} [1-9]`).MatchString(res.Stdout) {
			t.Errorf("no airlock_actions_total for Bash %s in /metrics:\n%s", d, grepLines(res.Stdout, "airlock_actions_total"))
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// gateTimeout: the held call is never run once its approval expired.
func gateTimeout(t *testing.T, h *Harness, a agent) {
	dir := t.TempDir()
	target := filepath.Join(dir, "made-late")
	res := a.run(t, h, dir, fakeapi.RunMarker+"touch "+target)
	if _, err := os.Stat(target); err == nil || !strings.Contains(res.Stdout, "nobody approved it in time") {
		t.Fatalf("%s after the approval expired: stat %v\nstdout: %s\nstderr: %s", a.name, err, res.Stdout, res.Stderr)
	}
	if v := actionFor(t, h, "touch "+target); v.Decision != "approval_timeout" || v.Approver != "timeout" {
		t.Fatalf("actions list: %+v", v)
	}
}

func gateAllowed(t *testing.T, h *Harness, a agent) {
	dir := t.TempDir()
	marker := "airlock-gate-" + randomHex(t)
	res := a.run(t, h, dir, fakeapi.RunMarker+"echo "+marker)
	if res.Code != 0 || !strings.Contains(res.Stdout, "The command finished. Its output: "+marker) {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s\ndaemon log:\n%s", a.name, res.Code, res.Stdout, res.Stderr, h.Log())
	}
	v := actionFor(t, h, "echo "+marker)
	if v.Decision != "allow" || v.Result == nil || !strings.Contains(v.Result.Excerpt, marker) || !strings.Contains(v.Caller, a.exe) {
		t.Fatalf("actions list: %+v (result %+v)", v, v.Result)
	}
	h.AssertUpstreamGotOnlyManagedKey(t, len(h.Upstream.Requests()), a.leaked)
}

func gateDenied(t *testing.T, h *Harness, a agent) {
	dir, victim := victimFile(t, "precious")
	res := a.run(t, h, dir, fakeapi.RunMarker+"rm -rf "+victim)
	if _, err := os.Stat(victim); err != nil {
		t.Fatalf("%s ran the refused command: %v\n%s%s", a.name, err, res.Stdout, res.Stderr)
	}
	if !strings.Contains(res.Stdout, `no-recursive-delete`) || !strings.Contains(res.Stdout, `refused this tool call`) {
		t.Fatalf("%s does not show the refusal: exit %d\nstdout: %s\nstderr: %s", a.name, res.Code, res.Stdout, res.Stderr)
	}
	t.Logf("%s printed: %s", a.name, res.Stdout)
	v := actionFor(t, h, "rm -rf "+victim)
	if v.Decision != "deny" || v.Rule != "no-recursive-delete" || v.Result != nil {
		t.Fatalf("actions list: %+v", v)
	}
}

// gateControl: the same agent does run an rm -rf the policy allows, so the
// file surviving the denied one is Airlock's doing, not the agent's caution.
func gateControl(t *testing.T, h *Harness, a agent) {
	dir, victim := victimFile(t, "expendable")
	res := a.run(t, h, dir, fakeapi.RunMarker+"rm -rf "+victim)
	if _, err := os.Stat(victim); !os.IsNotExist(err) || res.Code != 0 {
		t.Fatalf("%s did not run an allowed rm -rf: exit %d, %v\n%s%s", a.name, res.Code, err, res.Stdout, res.Stderr)
	}
}

// victimFile creates a file for an agent to be told to delete, in the
// directory the agent runs in.
func victimFile(t *testing.T, name string) (dir, path string) {
	dir = t.TempDir()
	path = filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("the agent was told to delete me"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

// gateHeld: the call waits for `airlock approvals approve|deny`; the file it
// creates exists only when approved.
func gateHeld(t *testing.T, h *Harness, a agent, verb string) {
	dir := t.TempDir()
	target := filepath.Join(dir, "made-"+verb)
	done := make(chan Result, 1)
	go func() { done <- runAgentNoFatal(t, h, a, dir, fakeapi.RunMarker+"touch "+target) }()
	p := awaitActionHold(t, h, target, done)
	if a.name == "claude-code" && verb == "approve" {
		// Longer than the ping interval: Claude Code must take the pings
		// of a held stream and carry on.
		time.Sleep(gateway.DefaultActionPing + 3*time.Second)
	}
	if _, err := os.Stat(target); err == nil {
		t.Fatalf("the held command ran before a decision")
	}
	decideOK(t, h, verb, p.ID)
	res := <-done
	_, err := os.Stat(target)
	if ran := err == nil; ran != (verb == "approve") {
		t.Fatalf("%s after %s: ran %v\nstdout: %s\nstderr: %s", a.name, verb, ran, res.Stdout, res.Stderr)
	}
	t.Logf("%s printed: %s", a.name, res.Stdout)
	want := map[string]string{"approve": "approved", "deny": "approval_denied"}[verb]
	if v := actionFor(t, h, "touch "+target); v.Decision != want || v.Rule != "review-new-files" || v.ApprovalID != p.ID {
		t.Fatalf("actions list: %+v", v)
	}
}

// runAgentNoFatal runs an agent from another goroutine (t.Fatal must not).
func runAgentNoFatal(t *testing.T, h *Harness, a agent, dir, prompt string) (res Result) {
	defer func() {
		if recover() != nil {
			res.Code = -1
		}
	}()
	return a.run(t, h, dir, prompt)
}

// awaitActionHold waits for the hold of the tool call that mentions marker.
func awaitActionHold(t *testing.T, h *Harness, marker string, done chan Result) approval.Pending {
	t.Helper()
	return awaitHeld(t, h, marker, done, 2*time.Minute)
}

// actionView is one row of `airlock actions list --json`.
type actionView struct {
	audit.Action
	Caller string            `json:"caller"`
	Result *audit.ToolResult `json:"result"`
}

// actionFor is the recorded action whose input carries command.
func actionFor(t *testing.T, h *Harness, command string) actionView {
	t.Helper()
	res := h.Airlock(t, "--json", "actions", "list", "--tool", "Bash")
	var views []actionView
	if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &views) != nil {
		t.Fatalf("actions list: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	for _, v := range views {
		var in struct{ Command string }
		if json.Unmarshal(v.Input, &in) == nil && in.Command == command {
			return v
		}
	}
	t.Fatalf("no action for %q in\n%s", command, res.Stdout)
	return actionView{}
}
