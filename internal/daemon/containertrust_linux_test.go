package daemon

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/airlock-dev/airlock/intercept"
	"github.com/airlock-dev/airlock/internal/testutil"
)

// A namespace found through a runtime's helper that has exited since (runc's
// intermediate init) still names its container, through the container's
// own process in it; a live process in no container names none.
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
	testutil.Eventually(t, 10*time.Second, "the process to exit", func() bool { return !stillRunning(zombie.Process.Pid) })

	inj := &trustInjector{ctx: context.Background()}
	for what, helper := range map[string]int{"exited": reaped.Process.Pid, "zombie": zombie.Process.Pid} {
		ns := intercept.OpenedNamespace{PID: helper, Inode: netnsInode(t, container)}
		if pid, got := inj.containerOf(ns); got.ID != id || pid != container {
			t.Errorf("namespace found through an %s process: container %q (pid %d), want %q (pid %d)", what, got.ID, pid, id, container)
		}
	}
	ns := intercept.OpenedNamespace{PID: plain, Inode: netnsInode(t, plain)}
	if pid, got := inj.containerOf(ns); got.ID != "" || pid != plain {
		t.Errorf("a namespace of no container: container %q (pid %d), want none", got.ID, pid)
	}
}

// startInNewNetns starts a sleeping process in cgroup dir and a network
// namespace of its own, and returns its pid once it is in that namespace.
func startInNewNetns(t *testing.T, unshare, dir string) int {
	t.Helper()
	cmd := exec.Command(unshare, "--net", "sleep", "60")
	testutil.StartInCgroup(t, cmd, dir)
	own := netnsInode(t, os.Getpid())
	testutil.Eventually(t, 10*time.Second, "the process to unshare its network namespace", func() bool {
		var st unix.Stat_t
		return unix.Stat("/proc/"+strconv.Itoa(cmd.Process.Pid)+"/ns/net", &st) == nil && st.Ino != own
	})
	return cmd.Process.Pid
}

func netnsInode(t *testing.T, pid int) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/proc/"+strconv.Itoa(pid)+"/ns/net", &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}
