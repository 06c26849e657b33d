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

// TestUntouched: non-target addresses and ports from the cgroup, and
// target addresses from outside the cgroup, reach their destination.
func TestUntouched(t *testing.T) {
	target := newOriginServer(t, "127.0.100.1:0")
	otherPort := newOriginServer(t, "127.0.100.1:0")
	nonTarget := newOriginServer(t, "127.0.0.1:0")
	h := newHarness(t, testTargets, target.addr.Port())
	h.listen()
	for _, s := range []*originServer{otherPort, nonTarget} {
		res := h.runHelper("HELPER_DIAL=" + s.addr.String())
		if res.Response != "origin" || res.Peer != s.addr.String() {
			t.Errorf("dial %s from the cgroup: got %q peer %s (error %q), want it untouched", s.addr, res.Response, res.Peer, res.Error)
		}
	}
	conn, err := dialPlain(target.addr) // this test process is outside the cgroup
	if err != nil || conn != "origin" {
		t.Errorf("dial %s from outside the cgroup: %q, %v; want it untouched", target.addr, conn, err)
	}
}

// TestLoopGuards checks each guard on its own: SO_MARK (via MarkedDialer),
// the excluded tgid and the excluded cgroup each keep a target dial from
// being redirected; with no guard it is redirected.
func TestLoopGuards(t *testing.T) {
	target := newOriginServer(t, "127.0.100.1:0")
	h := newHarness(t, testTargets, target.addr.Port())
	h.listen()
	dial := "HELPER_DIAL=" + target.addr.String()
	cgID, err := CgroupID(h.cgroup)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		env  []string
		set  func(pid int) error
	}{
		{"mark", []string{fmt.Sprintf("HELPER_MARKED_DIALER=%d", h.cfg.Mark)}, nil},
		{"tgid", nil, func(pid int) error { return h.loader.setExclusions(uint32(pid), 0) }},
		{"cgroup", nil, func(int) error { return h.loader.setExclusions(0, cgID) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := h.startHelper(append([]string{dial, "HELPER_WAIT=1"}, c.env...)...)
			if c.set != nil {
				if err := c.set(p.pid()); err != nil {
					t.Fatal(err)
				}
			}
			res := p.wait(t)
			if err := h.loader.setExclusions(0, 0); err != nil {
				t.Fatal(err)
			}
			if res.Response != "origin" {
				t.Errorf("guarded dial got %q (error %q), want the origin", res.Response, res.Error)
			}
		})
	}
	if c, err := h.loader.Counters(); err != nil || c.Excluded < 3 {
		t.Errorf("counters = %+v, %v; want excluded >= 3", c, err)
	}
	before := target.accepted.Load()
	res := h.runHelper(dial, "HELPER_SNI="+testAPIHost, fmt.Sprintf("HELPER_MARKED_DIALER=%d", h.cfg.Mark+1))
	if !strings.HasPrefix(res.Response, "api:") || target.accepted.Load() != before {
		t.Errorf("unguarded dial reached the origin (%q): the guards are not what kept it out", res.Response)
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
