package cli

import (
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/airlock-dev/airlock/intercept"
	"github.com/airlock-dev/airlock/internal/poll"
	"github.com/airlock-dev/airlock/internal/testutil"
)

// attachedConnect4 counts the programs attached to cgroup dir's connect4 hook.
func attachedConnect4(t *testing.T, dir string) int {
	t.Helper()
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := link.QueryPrograms(link.QueryOptions{Target: int(f.Fd()), Attach: ebpf.AttachCGroupInet4Connect})
	if err != nil {
		t.Fatal(err)
	}
	return len(res.Programs)
}

// A daemon that died (fail closed) leaves its programs attached and pinned;
// uninstall must detach and unpin them without a daemon and without a manifest.
func TestUninstallAfterCrashDetachesAndUnpins(t *testing.T) {
	testutil.RequirePrivileged(t, "loads, attaches and pins eBPF programs")
	cg, pins := testutil.NewCgroup(t), testutil.PinDir(t)
	l, err := intercept.Load(intercept.Config{CgroupPath: cg, PinDir: pins,
		Targets: []netip.Prefix{netip.MustParsePrefix("127.0.100.0/24")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil { // the crash: this process's handles go, the pins stay
		t.Fatal(err)
	}
	if attachedConnect4(t, cg) == 0 {
		t.Fatal("precondition: programs should stay attached after the daemon is gone")
	}
	root, _ := installRoot(t)
	r := run(t, "", "uninstall", "--root", root, "--pin-dir", pins)
	if r.code != 0 || !strings.Contains(r.out, "detached and unpinned "+pins) {
		t.Fatalf("uninstall: code %d\n%s%s", r.code, r.out, r.err)
	}
	if _, err := os.Stat(pins); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("pins left at %s: %v", pins, err)
	}
	// The kernel may release the last link reference from a work queue: poll, bounded.
	var n int
	if poll.Until(context.Background(), 2*time.Second, func() (bool, error) {
		n = attachedConnect4(t, cg)
		return n == 0, nil
	}) != nil {
		t.Errorf("%d program(s) still attached to connect4 after uninstall", n)
	}
}
