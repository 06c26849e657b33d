package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/intercept"
	"github.com/airlock-dev/airlock/internal/poll"
)

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// uniquePinDir is a pin directory no other test uses; cleanup checks it is gone.
func uniquePinDir(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat("/sys/fs/bpf"); err != nil {
		t.Fatalf("no bpf filesystem at /sys/fs/bpf (scripts/install-deps.sh mounts it): %v", err)
	}
	return "/sys/fs/bpf/airlock-e2e-" + randomSuffix()
}

// newCgroup creates a child cgroup v2 for the test's clients (never the root).
func newCgroup(t testing.TB) string {
	t.Helper()
	mount, err := intercept.Cgroup2Mount()
	if err != nil {
		t.Fatalf("cgroup v2: %v", err)
	}
	dir := filepath.Join(mount, "airlock-e2e-"+randomSuffix())
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("creating cgroup %s: %v", dir, err)
	}
	return dir
}

// removeCgroup kills whatever is left in the cgroup and removes it.
func removeCgroup(dir string) error {
	var err error
	if poll.Until(context.Background(), 5*time.Second, func() (bool, error) {
		killProcs(dir)
		err = os.Remove(dir)
		return err == nil || errors.Is(err, os.ErrNotExist), nil
	}) != nil {
		return fmt.Errorf("removing cgroup %s: %w", dir, err)
	}
	return nil
}

func killProcs(dir string) {
	b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// cleanup stops the daemon, removes what a fail-closed daemon leaves pinned
// (as `airlock uninstall` would), removes the cgroup, then asserts the host is
// as the test found it: no pins, no cgroup, no listener.
func (h *Harness) cleanup(t testing.TB) {
	if h.daemon != nil {
		h.Stop(t)
	}
	if err := intercept.Uninstall(h.PinDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Errorf("removing pins %s: %v", h.PinDir, err)
	}
	if err := removeCgroup(h.Cgroup); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(h.Cgroup); err == nil {
		t.Errorf("left behind: cgroup %s", h.Cgroup)
	}
	h.AssertNoLeftovers(t)
}

// AssertNoLeftovers fails t if the daemon left pins or a listener behind.
func (h *Harness) AssertNoLeftovers(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(h.PinDir); err == nil {
		t.Errorf("left behind: pins in %s", h.PinDir)
	}
	for _, addr := range []string{h.ListenV4, h.ListenV6} {
		if strings.HasSuffix(addr, ":0") {
			continue // never bound
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("left behind: a listener on %s", addr)
		}
	}
}
