//go:build linux

package intercept

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// listenIn opens a plain TCP listener at addr inside the named namespace,
// closed when t ends.
func listenIn(t *testing.T, name, addr string) net.Listener {
	t.Helper()
	ns, err := netns.GetFromName(name)
	if err != nil {
		t.Fatalf("opening netns %s: %v", name, err)
	}
	defer ns.Close()
	var ln net.Listener
	if err := inNetns(ns, func() (err error) { ln, err = net.Listen("tcp4", addr); return err }); err != nil {
		t.Fatalf("listening on %s in %s: %v", addr, name, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// accepted reports whether ln accepted a connection within d.
func accepted(ln net.Listener, d time.Duration) bool {
	_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(d))
	c, err := ln.Accept()
	if err == nil {
		c.Close()
	}
	return err == nil
}

// TestNetnsHoldSquatter: a process in a container's namespace takes the
// hold address before the daemon (to receive connections held at first
// contact, with the app's key inside). The kernel never lets a held SYN
// out until the daemon's own listener is registered at that address, so
// the squatter gets nothing: the held connect() times out, and once the
// daemon listens elsewhere (its fallback) connections go there.
func TestNetnsHoldSquatter(t *testing.T) {
	h := newHarness(t, testTargets, netnsTarget.Port())
	h.listen()
	if err := h.loader.SetHold(netnsListenV4, netnsListenV6); err != nil {
		t.Fatalf("SetHold: %v", err)
	}
	wrap := ipNetns(t)
	name := wrap[len(wrap)-1]
	squat := listenIn(t, name, netnsListenV4.String())
	res := h.startHelperIn(h.cgroup, wrap, "HELPER_DIAL="+netnsTarget.String(), "HELPER_SYNCNT=2").wait(t)
	if !strings.Contains(res.Error, "timed out") {
		t.Errorf("held connect with no listener: %q (error %q), want a timeout", res.Response, res.Error)
	}
	if accepted(squat, 200*time.Millisecond) {
		t.Fatal("the squatter at the hold address accepted a held connection")
	}
	cookie, err := netnsOf(squat)
	if err != nil {
		t.Fatal(err)
	}
	// The daemon's fallback: its listener on an ephemeral port.
	ours := listenIn(t, name, "127.65.82.76:0")
	go func() {
		if c, err := ours.Accept(); err == nil {
			_, _ = c.Write([]byte("ours"))
			c.Close()
		}
	}()
	if err := h.loader.SetNetnsListener(cookie, ours.Addr().(*net.TCPAddr).AddrPort(), netnsListenV6); err != nil {
		t.Fatal(err)
	}
	res = h.startHelperIn(h.cgroup, wrap, "HELPER_DIAL="+netnsTarget.String()).wait(t)
	if res.Response != "ours" || accepted(squat, 200*time.Millisecond) {
		t.Errorf("after the fallback listener registered: %q (error %q), want it, and nothing at the squatter", res.Response, res.Error)
	}
}

// TestNetnsHoldOffRefuses: without a daemon serving namespaces (Close turns
// the hold off) a first contact is refused at once, not held.
func TestNetnsHoldOffRefuses(t *testing.T) {
	h := newHarness(t, testTargets, netnsTarget.Port())
	h.listen()
	nss := h.serveNamespaces()
	if err := nss.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	res := h.startHelperIn(h.cgroup, unshareWrap(t, 0), "HELPER_DIAL="+netnsTarget.String()).wait(t)
	if !strings.Contains(res.Error, "operation not permitted") {
		t.Errorf("first contact after Close: %q (error %q), want EPERM", res.Response, res.Error)
	}
	if c, err := h.loader.NetnsCounters(); err != nil || c.Held != 0 {
		t.Errorf("counters %+v, %v: want nothing held", c, err)
	}
}
