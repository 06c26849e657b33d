package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/airlock-dev/airlock/admin"
	"github.com/airlock-dev/airlock/internal/testutil"
)

// buildCLI compiles the real airlock binary into a directory every uid can read.
func buildCLI(t *testing.T) string {
	t.Helper()
	dir := openDir(t)
	bin := filepath.Join(dir, "airlock")
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = "/usr/local/go/bin/go"
	}
	cmd := exec.Command(gobin, "build", "-o", bin, "github.com/airlock-dev/airlock/cmd/airlock")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building airlock: %v\n%s", err, out)
	}
	return bin
}

// openDir is a temp dir that other uids may traverse.
func openDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The admin socket refuses a process that is neither root nor in the group,
// and the CLI says so in one line with the fix. The socket is 0666 so that
// the refusal is the daemon's SO_PEERCRED check, not file permissions.
func TestCLIAsOtherUIDIsRefused(t *testing.T) {
	testutil.RequirePrivileged(t, "runs the CLI as uid 65534")
	d := startDaemonWith(t, admin.ServerConfig{SocketMode: 0o666})
	if err := os.Chmod(filepath.Dir(d.sock), 0o755); err != nil {
		t.Fatal(err)
	}
	bin := buildCLI(t)
	for _, cred := range []*syscall.Credential{nil, {Uid: 65534, Gid: 65534}} {
		cmd := exec.Command(bin, "--socket", d.sock, "approvals", "list")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Dir = "/"
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if cred == nil {
			if err != nil || !strings.Contains(string(out), "no requests are waiting") {
				t.Fatalf("as root: %v\n%s%s", err, out, stderr.String())
			}
			continue
		}
		exit, ok := err.(*exec.ExitError)
		if !ok || exit.ExitCode() != ExitFailure {
			t.Fatalf("as uid 65534: err %v, want exit 1\n%s%s", err, out, stderr.String())
		}
		msg := stderr.String()
		t.Logf("as uid 65534: %s", msg)
		if strings.Count(strings.TrimSpace(msg), "\n") != 0 || !strings.Contains(msg, "refused uid 65534") || !strings.Contains(msg, "fix: run it as root") {
			t.Errorf("refusal message = %q", msg)
		}
	}
}
