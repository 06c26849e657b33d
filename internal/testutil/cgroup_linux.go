//go:build linux

package testutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/airlock-dev/airlock/internal/poll"
)

// Cgroup2Mount returns the cgroup v2 mount point (/sys/fs/cgroup on unified
// hosts, /sys/fs/cgroup/unified on hybrid ones), or fails tb.
func Cgroup2Mount(tb testing.TB) string {
	tb.Helper()
	for _, p := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var st unix.Statfs_t
		if unix.Statfs(p, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return p
		}
	}
	Require(tb, false, "no cgroup v2 mount at /sys/fs/cgroup or /sys/fs/cgroup/unified")
	return ""
}

// RandomName returns prefix followed by 8 random hex digits.
func RandomName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// NewCgroup creates a child cgroup under the cgroup v2 mount and removes it
// when tb ends (after killing any process left in it). Never attach to the
// root: attach to this.
func NewCgroup(tb testing.TB) string {
	tb.Helper()
	RequirePrivileged(tb, "creating a cgroup")
	dir := filepath.Join(Cgroup2Mount(tb), RandomName("airlock-test-"))
	if err := os.Mkdir(dir, 0o755); err != nil {
		tb.Fatalf("creating cgroup: %v", err)
	}
	tb.Cleanup(func() { RemoveCgroup(tb, dir) })
	return dir
}

// RemoveCgroup kills what is left in dir and removes it (bounded retries:
// a killed process leaves its cgroup asynchronously).
func RemoveCgroup(tb testing.TB, dir string) {
	tb.Helper()
	if procs, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs")); containsPID(string(procs), os.Getpid()) {
		tb.Errorf("not removing cgroup %s: this process is still in it", dir)
		return
	}
	_ = os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0)
	var err error
	if poll.Until(context.Background(), 2*time.Second, func() (bool, error) {
		err = os.Remove(dir)
		return err == nil || errors.Is(err, os.ErrNotExist), nil
	}) != nil {
		tb.Errorf("removing cgroup %s: %v", dir, err)
	}
}

// StartInCgroup starts cmd directly inside the cgroup dir (clone3 with
// CLONE_INTO_CGROUP via SysProcAttr.UseCgroupFD), so not a single
// connect() of the child happens outside it. The child is killed and
// reaped when tb ends if it is still running.
func StartInCgroup(tb testing.TB, cmd *exec.Cmd, dir string) {
	tb.Helper()
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		tb.Fatalf("opening cgroup %s: %v", dir, err)
	}
	defer unix.Close(fd)
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, fd
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting %s in cgroup: %v", cmd.Path, err)
	}
	tb.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
}

// MoveSelfToCgroup moves the calling process into dir and returns it to
// its original cgroup when tb ends. Only for benchmarks that must measure
// their own connect() calls; prefer StartInCgroup.
func MoveSelfToCgroup(tb testing.TB, dir string) {
	tb.Helper()
	orig, err := ownCgroupDir(tb)
	if err != nil {
		tb.Fatalf("finding own cgroup: %v", err)
	}
	writePID(tb, dir)
	tb.Cleanup(func() { writePID(tb, orig) })
}

func writePID(tb testing.TB, dir string) {
	tb.Helper()
	pid := []byte(itoa(os.Getpid()))
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), pid, 0); err != nil {
		tb.Fatalf("moving pid into %s: %v", dir, err)
	}
}

func ownCgroupDir(tb testing.TB) (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	for _, line := range splitLines(string(b)) {
		if len(line) > 3 && line[:3] == "0::" {
			return filepath.Join(Cgroup2Mount(tb), line[3:]), nil
		}
	}
	return "", errors.New("no cgroup v2 entry in /proc/self/cgroup")
}

func containsPID(procs string, pid int) bool {
	for _, line := range splitLines(procs) {
		if line == itoa(pid) {
			return true
		}
	}
	return false
}
