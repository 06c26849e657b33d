//go:build linux

package intercept

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/internal/poll"
	"github.com/airlock-dev/airlock/internal/testutil"
)

// The API host resolves to a loopback target inside the client's own
// namespace: without Airlock nothing there listens on it.
var netnsTarget = netip.MustParseAddrPort("127.0.100.1:443")

// serveNamespaces runs namespace serving over the harness until the test ends.
func (h *harness) serveNamespaces() *Namespaces {
	h.t.Helper()
	log := h.nsLog
	if log == nil {
		log = zaptest.NewLogger(h.t)
	}
	nss, err := NewNamespaces(h.cfg, h.loader, APIHandlerFunc(h.serveAPI), h.reporter(), log)
	if err != nil {
		h.t.Fatalf("NewNamespaces: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- nss.Run(ctx) }()
	h.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("Namespaces.Run: %v", err)
		}
		_ = nss.Close()
	})
	return nss
}

// unshareWrap runs the client in a new network namespace (lo up) after
// delay, from inside its cgroup: `unshare -n`, as a user would.
func unshareWrap(t *testing.T, delay time.Duration) []string {
	script := filepath.Join(t.TempDir(), "unshare.sh")
	body := fmt.Sprintf("#!/bin/sh\nsleep %.3f\nexec unshare -n sh -c 'ip link set lo up && exec \"$@\"' sh \"$@\"\n", delay.Seconds())
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{"sh", script}
}

// ipNetns creates a named namespace with `ip netns add` (lo up) and returns
// the `ip netns exec` wrapper; the namespace is deleted when t ends.
func ipNetns(t *testing.T) []string {
	name := testutil.RandomName("airlock-ns-")
	for _, args := range [][]string{{"netns", "add", name}, {"-n", name, "link", "set", "lo", "up"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	return []string{"ip", "netns", "exec", name}
}

func netnsClientEnv() []string {
	return []string{"HELPER_DIAL=" + netnsTarget.String(), "HELPER_SNI=" + testAPIHost, "HELPER_RETRY=1"}
}

// assertIntercepted: the client got the API handler's answer and kept its
// own view of the peer; the handler saw it from a namespace of its own.
func assertIntercepted(t *testing.T, h *harness, res helperResult) *caller.Origin {
	t.Helper()
	if res.Error != "" || !strings.HasPrefix(res.Response, "api:GET / HTTP/1.0") {
		t.Fatalf("client got %q (error %q), want the API handler's answer", res.Response, res.Error)
	}
	if res.Peer != netnsTarget.String() {
		t.Errorf("getpeername = %s, want the original %s", res.Peer, netnsTarget)
	}
	o := h.nextOrigin()
	if o.Process.Netns == 0 || o.Process.Netns == h.loader.HostNetns() {
		t.Errorf("origin netns = %d, want the client's own (host is %d)", o.Process.Netns, h.loader.HostNetns())
	}
	return o
}

// waitServed waits (bounded) until n namespaces are served and every other
// listener opened has been released.
func waitServed(t *testing.T, nss *Namespaces, n int) NamespaceStats {
	t.Helper()
	var s NamespaceStats
	_ = poll.Until(context.Background(), 20*time.Second, func() (bool, error) { // on timeout the caller judges the stats
		s = nss.Stats()
		return s.Served == n && s.Opened-s.Released == uint64(n), nil
	})
	return s
}

func TestNetnsUnshare(t *testing.T) {
	h := newHarness(t, testTargets, netnsTarget.Port())
	h.listen()
	nss := h.serveNamespaces()
	p := h.startHelperIn(h.cgroup, unshareWrap(t, 0), netnsClientEnv()...)
	res := p.wait(t)
	o := assertIntercepted(t, h, res)
	if o.Process.PID != p.pid() {
		t.Errorf("origin pid = %d, want the client's %d", o.Process.PID, p.pid())
	}
	t.Logf("unshare -n client: %d first-contact refusals before it connected", res.Refused)
	if s := waitServed(t, nss, 0); s.Served != 0 || s.Released != 1 || s.Opened != 1 {
		t.Errorf("after the client exited: %+v, want 1 opened and released, 0 served", s)
	}
}

func TestNetnsIPNetnsExec(t *testing.T) {
	h := newHarness(t, testTargets, netnsTarget.Port())
	h.listen()
	nss := h.serveNamespaces()
	res := h.startHelperIn(h.cgroup, ipNetns(t), netnsClientEnv()...).wait(t)
	assertIntercepted(t, h, res)
	t.Logf("ip netns exec client: %d first-contact refusals", res.Refused)
	if s := waitServed(t, nss, 0); s.Served != 0 || s.Released != 1 {
		t.Errorf("after the client exited: %+v, want the listener released", s)
	}
}

// TestNetnsFirstContact: a process that enters a new namespace long after
// joining its cgroup is missed by cgroup events, so at its first connect()
// no listener exists there: the kernel holds the connection (its SYN goes
// nowhere), reports the namespace, and lets the SYN through once the daemon
// listens there; the client never sees a refusal.
func TestNetnsFirstContact(t *testing.T) {
	h := newHarness(t, testTargets, netnsTarget.Port())
	h.listen()
	nss := h.serveNamespaces()
	res := h.startHelperIn(h.cgroup, unshareWrap(t, 1500*time.Millisecond), netnsClientEnv()...).wait(t)
	assertIntercepted(t, h, res)
	s := nss.Stats()
	if res.Refused != 0 || s.FirstContact < 1 || s.Held < 1 || s.HeldPassed < 1 || s.Refused != 0 {
		t.Errorf("client refused %d times, stats %+v: want the first connect held, reported and let through", res.Refused, s)
	}
}

// TestNetnsWithoutDaemonRefuses: with no namespace serving running, a
// connection from another namespace is refused, never let through.
func TestNetnsWithoutDaemonRefuses(t *testing.T) {
	h := newHarness(t, testTargets, netnsTarget.Port())
	h.listen()
	res := h.startHelperIn(h.cgroup, unshareWrap(t, 0), "HELPER_DIAL="+netnsTarget.String()).wait(t)
	if !strings.Contains(res.Error, "operation not permitted") {
		t.Errorf("dial from an unserved namespace: %q (error %q), want EPERM", res.Response, res.Error)
	}
	if c, err := h.loader.NetnsCounters(); err != nil || c.Refused < 1 || c.Held != 0 {
		t.Errorf("netns counters = %+v, %v; want >= 1 refused, none held", c, err)
	}
}
