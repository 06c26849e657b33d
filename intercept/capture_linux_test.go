//go:build linux

package intercept

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/internal/testutil"
)

var testTargets = []netip.Prefix{netip.MustParsePrefix("127.0.100.0/24")}

// TestRedirectIPv4 dials a target from a process in the cgroup: it lands in
// the listener with the right origin, and getpeername shows the original.
func TestRedirectIPv4(t *testing.T) {
	origin := newOriginServer(t, "127.0.100.1:0")
	h := newHarness(t, testTargets, origin.addr.Port())
	h.listen()
	p := h.startHelper("HELPER_DIAL="+origin.addr.String(), "HELPER_SNI="+testAPIHost)
	res := p.wait(t)
	if res.Error != "" || !strings.HasPrefix(res.Response, "api:GET / HTTP/1.0") {
		t.Fatalf("client got %q (error %q), want the API handler's answer", res.Response, res.Error)
	}
	if res.Peer != origin.addr.String() {
		t.Errorf("getpeername = %s, want the original %s", res.Peer, origin.addr)
	}
	o := h.nextOrigin()
	assertOrigin(t, h, o, origin.addr, p.pid())
	if n := origin.accepted.Load(); n != 0 {
		t.Errorf("original destination accepted %d connections, want 0", n)
	}
	c, err := h.loader.Counters()
	if err != nil || c.Redirected < 1 {
		t.Errorf("counters = %+v, %v; want redirected >= 1", c, err)
	}
}

func assertOrigin(t *testing.T, h *harness, got *caller.Origin, dst netip.AddrPort, pid int) {
	t.Helper()
	if got.Dst != dst || got.SNI != testAPIHost {
		t.Errorf("origin dst=%s sni=%q, want %s %q", got.Dst, got.SNI, dst, testAPIHost)
	}
	if got.Process.PID != pid || got.Process.UID != uint32(os.Getuid()) {
		t.Errorf("process pid=%d uid=%d, want %d %d", got.Process.PID, got.Process.UID, pid, os.Getuid())
	}
	if want := filepath.Base(os.Args[0]); !strings.HasPrefix(want, got.Process.Comm) || got.Process.Comm == "" {
		t.Errorf("comm = %q, want a prefix of %q", got.Process.Comm, want)
	}
	id, err := CgroupID(h.cgroup)
	if err != nil || got.Process.CgroupID != id {
		t.Errorf("cgroup id = %d, want %d (%v)", got.Process.CgroupID, id, err)
	}
	if !strings.HasSuffix(got.Process.Cgroup, "/"+filepath.Base(h.cgroup)) {
		t.Errorf("cgroup path = %q, want one ending in %s", got.Process.Cgroup, filepath.Base(h.cgroup))
	}
	if self := selfExe(t); got.Process.ExeChanged || got.Process.ExeIno != self.ino || got.Process.ExeName != self.name {
		t.Errorf("identity exe_changed=%v ino=%d name=%q, want the test binary's (%d %q)",
			got.Process.ExeChanged, got.Process.ExeIno, got.Process.ExeName, self.ino, self.name)
	}
	if got.ConnID == "" || !got.Peer.Addr().IsLoopback() {
		t.Errorf("conn id %q peer %s: want an id and a loopback peer", got.ConnID, got.Peer)
	}
}

// TestRedirectIPv4Mapped dials ::ffff:127.0.100.1 from an AF_INET6 socket.
func TestRedirectIPv4Mapped(t *testing.T) {
	origin := newOriginServer(t, "127.0.100.1:0")
	h := newHarness(t, testTargets, origin.addr.Port())
	h.listen()
	mapped := netip.AddrPortFrom(netip.AddrFrom16(origin.addr.Addr().As16()), origin.addr.Port())
	p := h.startHelper("HELPER_DIAL="+mapped.String(), "HELPER_SNI="+testAPIHost)
	res := p.wait(t)
	if res.Error != "" || !strings.HasPrefix(res.Response, "api:") {
		t.Fatalf("client got %q (error %q), want the API handler's answer", res.Response, res.Error)
	}
	if res.Peer != mapped.String() {
		t.Errorf("getpeername = %s, want the original %s", res.Peer, mapped)
	}
	assertOrigin(t, h, h.nextOrigin(), origin.addr, p.pid())
	if n := origin.accepted.Load(); n != 0 {
		t.Errorf("original destination accepted %d connections, want 0", n)
	}
}

// TestRedirectIPv6 uses an IPv6 target assigned inside a private netns; the
// listener and the client live in that netns too.
func TestRedirectIPv6(t *testing.T) {
	ns := testutil.NewNetNS(t)
	testutil.AddLoopbackAddr(t, ns, netip.MustParsePrefix("fd00:a1::1/128"))
	var origin *originServer
	testutil.InNetNS(t, ns, func() { origin = newOriginServer(t, "[fd00:a1::1]:0") })
	h := newHarness(t, []netip.Prefix{netip.MustParsePrefix("fd00:a1::/64")}, origin.addr.Port())
	var p *helperProc
	testutil.InNetNS(t, ns, func() {
		h.listen()
		p = h.startHelper("HELPER_DIAL="+origin.addr.String(), "HELPER_SNI="+testAPIHost)
	})
	res := p.wait(t)
	if res.Error != "" || !strings.HasPrefix(res.Response, "api:") {
		t.Fatalf("client got %q (error %q), want the API handler's answer", res.Response, res.Error)
	}
	if res.Peer != origin.addr.String() {
		t.Errorf("getpeername = %s, want the original %s", res.Peer, origin.addr)
	}
	assertOrigin(t, h, h.nextOrigin(), origin.addr, p.pid())
	if n := origin.accepted.Load(); n != 0 {
		t.Errorf("original destination accepted %d connections, want 0", n)
	}
}

// TestUntouched: non-target addresses from the cgroup, and target
// addresses from outside the cgroup, reach their destination.
func TestUntouched(t *testing.T) {
	target := newOriginServer(t, "127.0.100.1:0")
	nonTarget := newOriginServer(t, "127.0.0.1:0")
	h := newHarness(t, testTargets, target.addr.Port())
	h.listen()
	res := h.runHelper("HELPER_DIAL=" + nonTarget.addr.String())
	if res.Response != "origin" || res.Peer != nonTarget.addr.String() {
		t.Errorf("dial %s from the cgroup: got %q peer %s (error %q), want it untouched", nonTarget.addr, res.Response, res.Peer, res.Error)
	}
	conn, err := dialPlain(target.addr) // this test process is outside the cgroup
	if err != nil || conn != "origin" {
		t.Errorf("dial %s from outside the cgroup: %q, %v; want it untouched", target.addr, conn, err)
	}
}

// TestOtherPortsRefused: another TCP port of an API address is neither
// redirected nor let through: the API would see the app's own key.
func TestOtherPortsRefused(t *testing.T) {
	target := newOriginServer(t, "127.0.100.1:0")
	otherPort := newOriginServer(t, "127.0.100.1:0")
	h := newHarness(t, testTargets, target.addr.Port())
	h.listen()
	mapped := netip.AddrPortFrom(netip.AddrFrom16(otherPort.addr.Addr().As16()), otherPort.addr.Port())
	for _, dst := range []netip.AddrPort{otherPort.addr, mapped} {
		res := h.runHelper("HELPER_DIAL=" + dst.String())
		if !strings.Contains(res.Error, "operation not permitted") {
			t.Errorf("dial %s: %q (error %q), want EPERM", dst, res.Response, res.Error)
		}
	}
	if n := otherPort.accepted.Load(); n != 0 {
		t.Errorf("the other port accepted %d connections, want 0", n)
	}
	if c, err := h.loader.Counters(); err != nil || c.Refused < 2 {
		t.Errorf("counters = %+v, %v; want refused >= 2", c, err)
	}
}

// TestLoopGuards: only a socket that carries the mark AND comes from the
// daemon's tgid or cgroup skips capture; the mark alone, the tgid alone
// or the cgroup alone do not.
func TestLoopGuards(t *testing.T) {
	target := newOriginServer(t, "127.0.100.1:0")
	h := newHarness(t, testTargets, target.addr.Port())
	h.listen()
	cgID, err := CgroupID(h.cgroup)
	if err != nil {
		t.Fatal(err)
	}
	marked := []string{fmt.Sprintf("HELPER_MARKED_DIALER=%d", h.cfg.Mark)}
	tgid := func(pid int) error { return h.loader.setExclusions(uint32(pid), 0) }
	cgroup := func(int) error { return h.loader.setExclusions(0, cgID) }
	cases := []struct {
		name     string
		env      []string
		set      func(pid int) error
		excluded bool
	}{
		{"mark+tgid", marked, tgid, true},
		{"mark+cgroup", marked, cgroup, true},
		{"mark alone", marked, nil, false},
		{"tgid alone", nil, tgid, false},
		{"cgroup alone", nil, cgroup, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := target.accepted.Load()
			p := h.startHelper(append([]string{"HELPER_DIAL=" + target.addr.String(), "HELPER_SNI=" + testAPIHost, "HELPER_WAIT=1"}, c.env...)...)
			if c.set != nil {
				if err := c.set(p.pid()); err != nil {
					t.Fatal(err)
				}
			}
			res := p.wait(t)
			if err := h.loader.setExclusions(0, 0); err != nil {
				t.Fatal(err)
			}
			reached := target.accepted.Load() > before
			if reached != c.excluded || strings.HasPrefix(res.Response, "api:") == c.excluded {
				t.Errorf("reached origin %v, response %q (error %q); want excluded=%v", reached, res.Response, res.Error, c.excluded)
			}
		})
	}
	if c, err := h.loader.Counters(); err != nil || c.Excluded != 2 {
		t.Errorf("counters = %+v, %v; want excluded == 2", c, err)
	}
}

// TestNoListenerRefuses: with no listener address in the kernel (port 0),
// a target connection is refused outright, never sent to its destination.
func TestNoListenerRefuses(t *testing.T) {
	target := newOriginServer(t, "127.0.100.4:0")
	h := newHarness(t, testTargets, target.addr.Port())
	if err := h.loader.SetListeners(netip.AddrPort{}, netip.AddrPort{}); err != nil {
		t.Fatal(err)
	}
	res := h.runHelper("HELPER_DIAL=" + target.addr.String())
	if !strings.Contains(res.Error, "operation not permitted") || target.accepted.Load() != 0 {
		t.Errorf("dial with no listener: %q error %q, origin accepted %d; want EPERM and 0",
			res.Response, res.Error, target.accepted.Load())
	}
}
