//go:build linux

package testutil

import (
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// NewNetNS creates a network namespace with its loopback up, without
// moving the caller into it; it is closed (and so destroyed once nothing
// uses it) when tb ends. Use InNetNS to act inside it.
func NewNetNS(tb testing.TB) netns.NsHandle {
	tb.Helper()
	RequirePrivileged(tb, "creating a network namespace")
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		tb.Fatalf("getting current netns: %v", err)
	}
	defer orig.Close()
	ns, err := netns.New() // switches this thread
	if err != nil {
		tb.Fatalf("creating netns: %v", err)
	}
	if err := netns.Set(orig); err != nil {
		tb.Fatalf("returning to original netns: %v", err)
	}
	tb.Cleanup(func() { ns.Close() })
	setLoopbackUp(tb, ns)
	return ns
}

func setLoopbackUp(tb testing.TB, ns netns.NsHandle) {
	tb.Helper()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		tb.Fatalf("netlink handle in netns: %v", err)
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.LinkSetUp(lo)
	}
	if err != nil {
		tb.Fatalf("bringing lo up in netns: %v", err)
	}
}

// AddLoopbackAddr assigns prefix (e.g. fd00:a1::1/128) to lo inside ns,
// without duplicate address detection so it is usable at once.
func AddLoopbackAddr(tb testing.TB, ns netns.NsHandle, prefix netip.Prefix) {
	tb.Helper()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		tb.Fatalf("netlink handle in netns: %v", err)
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		tb.Fatalf("finding lo in netns: %v", err)
	}
	addr, err := netlink.ParseAddr(prefix.String())
	if err != nil {
		tb.Fatalf("parsing %s: %v", prefix, err)
	}
	addr.Flags |= unix.IFA_F_NODAD
	if err := h.AddrAdd(lo, addr); err != nil {
		tb.Fatalf("adding %s to lo in netns: %v", prefix, err)
	}
}

// InNetNS runs fn on an OS thread switched into ns, then switches back.
// Sockets opened and processes started in fn belong to ns.
func InNetNS(tb testing.TB, ns netns.NsHandle, fn func()) {
	tb.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		tb.Fatalf("getting current netns: %v", err)
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		tb.Fatalf("entering netns: %v", err)
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			// The thread is unusable; keep it locked so the runtime discards it.
			runtime.LockOSThread()
			tb.Errorf("leaving netns: %v", err)
		}
	}()
	fn()
}

func itoa(i int) string { return strconv.Itoa(i) }

func splitLines(s string) []string { return strings.Split(s, "\n") }
