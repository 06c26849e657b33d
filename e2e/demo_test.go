package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/internal/testutil"
)

// TestDemo runs `make demo`'s script, so the README's first command cannot
// rot: it must succeed, show the masked prompt and the managed key upstream,
// name curl in the audit, intercept and name a Docker container, and leave
// no cgroup, pin or mount behind.
func TestDemo(t *testing.T) {
	testutil.RequirePrivileged(t, "the demo attaches eBPF programs and mounts namespaces")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(moduleRoot(), "scripts", "demo.sh"))
	cmd.Dir = moduleRoot()
	cmd.Env = append(cleanEnv(), "AIRLOCK_E2E_NODE_DIR="+NodeCacheDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	for _, want := range []string{
		"x-api-key:         sk-ant-api03-FAKE-demo-managed-key-not-real",
		"[REDACTED:aws_access_key_id:",
		"/usr/bin/curl",
		// the container section: intercepted in its own namespace and named by the private dockerd
		"answer in the container: Hello! You said: Hello from a container",
		`"container_image": "airlock-demo/curl:latest"`,
		"cleaned up",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "prompt:            Why does my deploy fail? My AWS key is AKIA") {
		t.Errorf("the upstream saw the AWS key:\n%s", out)
	}
	leftovers, _ := filepath.Glob("/sys/fs/bpf/airlock-demo-*")
	cgroups, _ := filepath.Glob("/sys/fs/cgroup/*/airlock-demo-*")
	more, _ := filepath.Glob("/sys/fs/cgroup/airlock-demo-*")
	if len(leftovers)+len(cgroups)+len(more) > 0 {
		t.Errorf("the demo left %v %v %v", leftovers, cgroups, more)
	}
	if mounts, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mounts), "/airlock-demo.") {
		t.Errorf("the demo left a mount (its dockerd's):\n%s", mounts)
	}
}
