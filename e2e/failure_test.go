package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// reasonLine is the one line airlockd prints for an operator when it refuses
// to start (the rest of stderr is the JSON log).
func reasonLine(t *testing.T, out string) string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "airlockd: ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("want exactly one 'airlockd: ' reason line, got %d in:\n%s", len(lines), out)
	}
	return lines[0]
}

func TestInvalidConfigListsEveryProblem(t *testing.T) {
	h := Prepare(t, Options{Config: `
log: {level: chatty}
capture: {fail_mode: maybe, targets: [not-a-prefix], ports: [70000]}
upstream: {proxy: "ftp://x"}
approvals: {timeout: -1s}
`})
	code, out := h.RunDaemon(t)
	if code != 2 {
		t.Fatalf("exit %d, want 2\n%s", code, out)
	}
	for _, key := range []string{"log.level", "capture.fail_mode", "capture.targets[0]", "capture.ports[0]",
		"upstream.proxy", "approvals.timeout"} {
		if !strings.Contains(out, "  - "+key+": ") {
			t.Errorf("output does not list %s:\n%s", key, out)
		}
	}
	h.AssertNoLeftovers(t)
}

func TestCheckAcceptsValidConfig(t *testing.T) {
	h := Prepare(t, Options{})
	if code, out := h.RunDaemon(t, "--check"); code != 0 || !strings.Contains(out, "configuration is valid") {
		t.Fatalf("--check: exit %d\n%s", code, out)
	}
}

func TestMissingCredentialIsOneLine(t *testing.T) {
	h := Prepare(t, Options{})
	keyFile := filepath.Join(h.Dir, "managed.key")
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	code, out := h.RunDaemon(t)
	line := reasonLine(t, out)
	if code != 1 || !strings.Contains(line, `credential "default"`) || !strings.Contains(line, "fix: write the key to "+keyFile) {
		t.Fatalf("exit %d, reason %q", code, line)
	}
	h.AssertNoLeftovers(t)
}

func TestUnwritableStateDirIsOneLine(t *testing.T) {
	h := Prepare(t, Options{})
	if err := os.MkdirAll(h.StateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	// A read-only bind mount in a private mount namespace: what
	// ProtectSystem=strict does to a state directory the unit forgot to allow.
	script := `mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"`
	args := append([]string{"--mount", "--propagation", "private", "sh", "-c", script, "sh", h.StateDir},
		h.daemonCmd(t.Context()).Args...)
	out, err := exec.CommandContext(t.Context(), "unshare", args...).CombinedOutput()
	line := reasonLine(t, string(out))
	if err == nil || !strings.Contains(line, "state directory "+h.StateDir+" is not writable") || !strings.Contains(line, "fix: ") {
		t.Fatalf("err %v, reason %q", err, line)
	}
	h.AssertNoLeftovers(t)
}

func TestSecondDaemonRefuses(t *testing.T) {
	h := Start(t, Options{})
	code, out := h.RunDaemon(t)
	line := reasonLine(t, out)
	if code != 1 || !strings.Contains(line, "another airlockd is already running") {
		t.Fatalf("exit %d, reason %q", code, line)
	}
	// The first daemon is unaffected.
	if h.daemon == nil || h.daemon.cmd.ProcessState != nil {
		t.Fatal("the first daemon stopped")
	}
}

// TestCaptureSetupErrorIsOneLine: a cgroup that is not cgroup v2 (as on a
// host without the hooks' prerequisites) stops startup with capture's reason and fix.
func TestCaptureSetupErrorIsOneLine(t *testing.T) {
	h := Prepare(t, Options{Config: "capture: {cgroup: " + t.TempDir() + "}\n"})
	code, out := h.RunDaemon(t)
	line := reasonLine(t, out)
	if code != 1 || !strings.Contains(line, "capture: ") || !strings.Contains(line, "not a cgroup v2 directory") || !strings.Contains(line, "fix: ") {
		t.Fatalf("exit %d, reason %q", code, line)
	}
	h.AssertNoLeftovers(t)
}
