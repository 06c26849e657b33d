package daemon

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/intercept"
	"github.com/airlock-dev/airlock/internal/testutil"
)

// A namespace found through a runtime's helper that has exited since (runc's
// intermediate init) still names its container, through the container's
// own process in it; a live process in no container names none. A pid that
// has been reused by a process of another namespace never speaks for it: a
// hostile process cannot have its own container, or none, taken for the
// namespace's.
func TestContainerOfLooksPastAnExitedHelper(t *testing.T) {
	unshare, err := exec.LookPath("unshare")
	testutil.Require(t, err == nil, "unshare is not installed")
	root := testutil.NewCgroup(t)
	id := strings.Repeat("c0ffee", 10) + "abcd"
	scope := filepath.Join(root, "docker-"+id+".scope") // as Docker's systemd driver names it
	if err := os.Mkdir(scope, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.RemoveCgroup(t, scope) }) // before root's: cleanups run last first

	container := startInNewNetns(t, unshare, scope)
	plain := startInNewNetns(t, unshare, root)
	reaped := exec.Command("true")
	if err := reaped.Run(); err != nil {
		t.Fatal(err)
	}
	zombie := exec.Command("true") // exited, not yet waited for
	if err := zombie.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { zombie.Wait() })
	testutil.Eventually(t, 10*time.Second, "the process to exit", func() bool { return netnsInode(zombie.Process.Pid) == 0 })

	inj := &trustInjector{ctx: context.Background()}
	helpers := map[string]int{"exited": reaped.Process.Pid, "is a zombie": zombie.Process.Pid, "was reused by another namespace's": plain}
	for what, helper := range helpers {
		ns := intercept.OpenedNamespace{PID: helper, Inode: mustNetnsInode(t, container)}
		if pid, got := inj.containerOf(ns); got.ID != id || pid != container {
			t.Errorf("namespace found through a process that %s: container %q (pid %d), want %q (pid %d)", what, got.ID, pid, id, container)
		}
	}
	ns := intercept.OpenedNamespace{PID: plain, Inode: mustNetnsInode(t, plain)}
	if pid, got := inj.containerOf(ns); got.ID != "" || pid != plain {
		t.Errorf("a namespace of no container: container %q (pid %d), want none", got.ID, pid)
	}
	// A namespace every process has left: none, without waiting out the bound.
	gone := startInNewNetns(t, unshare, root)
	goneIno := mustNetnsInode(t, gone)
	if err := syscall.Kill(gone, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the process to leave its namespace", func() bool { return netnsInode(gone) == 0 })
	began := time.Now()
	if pid, got := inj.containerOf(intercept.OpenedNamespace{PID: gone, Inode: goneIno}); got.ID != "" || pid != 0 {
		t.Errorf("an empty namespace: container %q (pid %d), want none", got.ID, pid)
	}
	if waited := time.Since(began); waited > 5*time.Second {
		t.Errorf("an empty namespace was polled for %s: it should end at the first /proc walk", waited)
	}
	// The plain namespace's pid, reused by the container's process: still none.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	ns = intercept.OpenedNamespace{PID: container, Inode: mustNetnsInode(t, plain)}
	if _, got := (&trustInjector{ctx: ctx}).containerOf(ns); got.ID != "" {
		t.Errorf("a plain namespace whose pid another container's process took: container %q, want none", got.ID)
	}
}

// startInNewNetns starts a sleeping process in cgroup dir and a network
// namespace of its own, and returns its pid once it is in that namespace.
func startInNewNetns(t *testing.T, unshare, dir string) int {
	t.Helper()
	cmd := exec.Command(unshare, "--net", "sleep", "60")
	testutil.StartInCgroup(t, cmd, dir)
	own := mustNetnsInode(t, os.Getpid())
	testutil.Eventually(t, 10*time.Second, "the process to unshare its network namespace", func() bool {
		ino := netnsInode(cmd.Process.Pid)
		return ino != 0 && ino != own
	})
	return cmd.Process.Pid
}

func mustNetnsInode(t *testing.T, pid int) uint64 {
	t.Helper()
	ino := netnsInode(pid)
	if ino == 0 {
		t.Fatalf("pid %d has no network namespace", pid)
	}
	return ino
}
