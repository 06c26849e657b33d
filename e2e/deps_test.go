package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/internal/testutil"
)

// The README promises two commands on a fresh machine: each installs what it
// needs. Once everything is there (make test just ran it), the step must be
// a no-op that a developer does not notice: it installs nothing, changes
// nothing, and takes well under two seconds, every time.
func TestDependencyStepIsIdempotentAndQuick(t *testing.T) {
	testutil.RequirePrivileged(t, "the dependency step installs Debian packages")
	script := filepath.Join(moduleRoot(), "scripts", "install-deps.sh")
	for _, target := range []string{"test", "demo", "test"} {
		start := time.Now()
		out, err := exec.Command(script, target).CombinedOutput()
		took := time.Since(start)
		if err != nil {
			t.Fatalf("install-deps.sh %s: %v\n%s", target, err, out)
		}
		if len(out) != 0 {
			t.Errorf("install-deps.sh %s with everything present printed (so did work): %s", target, out)
		}
		if took > 2*time.Second {
			t.Errorf("install-deps.sh %s took %v with everything present, want under 2s", target, took)
		}
		t.Logf("install-deps.sh %s: %v", target, took)
	}
}

// Without root, a missing package is named with the fix, and nothing is tried.
func TestDependencyStepNamesWhatIsMissing(t *testing.T) {
	testutil.RequirePrivileged(t, "runs the step as user nobody")
	dir := t.TempDir()
	script := filepath.Join(dir, "install-deps.sh") // a copy nobody can read wherever the checkout is
	b, err := os.ReadFile(filepath.Join(moduleRoot(), "scripts", "install-deps.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, b, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755)
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", script, "test")
	cmd.Env = append(os.Environ(), "AIRLOCK_DEPS_EXTRA=airlock-no-such-package")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("a missing package without root exited 0:\n%s", out)
	}
	for _, want := range []string{"airlock-no-such-package", "sudo make test"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("message does not name %q:\n%s", want, out)
		}
	}
}
