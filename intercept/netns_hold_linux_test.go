//go:build linux

package intercept

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"
	"go.uber.org/zap/zaptest"
	"golang.org/x/sys/unix"
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
	// The daemon's listener there falls back to an ephemeral port, and
	// connections go to it.
	ln := fallbackListener(t, h, name)
	if v4, _ := ln.Addrs(); v4 == netnsListenV4 {
		t.Fatalf("the daemon's listener has the squatted address %s", v4)
	}
	res = h.startHelperIn(h.cgroup, wrap, netnsClientEnv()...).wait(t)
	assertIntercepted(t, h, res)
	if accepted(squat, 200*time.Millisecond) {
		t.Error("the squatter accepted a connection after the daemon's listener was registered")
	}
}

// fallbackListener opens and registers the daemon's listener in the named
// namespace as Namespaces does, and serves it until t ends.
func fallbackListener(t *testing.T, h *harness, name string) *Listener {
	t.Helper()
	ns, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	cfg := h.cfg
	cfg.ListenV4, cfg.ListenV6, cfg.holdFallback = netnsListenV4, netnsListenV6, true
	var ln *Listener
	if err := inNetns(ns, func() (err error) {
		ln, err = NewListener(cfg, h.loader, APIHandlerFunc(h.serveAPI), h.reporter(), zaptest.NewLogger(t))
		return err
	}); err != nil {
		t.Fatalf("listening in %s: %v", name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = ln.Serve(ctx) }()
	t.Cleanup(func() { cancel(); ln.Close() })
	v4, v6 := ln.Addrs()
	if err := h.loader.SetNetnsListener(ln.Netns(), v4, v6); err != nil {
		t.Fatal(err)
	}
	return ln
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

// TestNetnsLoopbackUpLate: a runtime starts a process in a namespace (in a
// cgroup of its own) before the namespace's loopback works. The daemon,
// seeing the cgroup fill, tries to listen there at once and fails; the
// client's first contact a moment later must still be served, not left held
// until connect() times out because the failed try put the namespace on
// hold. (An IPv4 bind on 127/8 fails for an instant while "ip link set lo
// up" runs; this namespace has lo up without its address for 300 ms.)
func TestNetnsLoopbackUpLate(t *testing.T) {
	h := newHarness(t, testTargets, netnsTarget.Port())
	h.listen()
	nss := h.serveNamespaces()
	wrap := ipNetns(t)
	name := wrap[len(wrap)-1]
	if out, err := exec.Command("ip", "-n", name, "addr", "flush", "dev", "lo").CombinedOutput(); err != nil {
		t.Fatalf("ip addr flush: %v: %s", err, out)
	}
	wrap = append(wrap, "sh", "-c", `sleep 0.3 && ip addr add 127.0.0.1/8 dev lo && exec "$@"`, "sh")
	res := h.startHelperIn(childCgroup(t, h), wrap, netnsClientEnv()...).wait(t)
	assertIntercepted(t, h, res)
	if s := nss.Stats(); s.Failures == 0 {
		t.Errorf("stats %+v: want the early try (the loopback without its address) to have failed, or this test tests nothing", s)
	}
}

// TestNetnsFailedOpenNotHammered: a hostile process that keeps reporting a
// namespace where no listener can open (spinning connect() there) costs the
// daemon one try per wait, not one per report; the reports in between
// collapse into the one retry scheduled at the wait's end.
func TestNetnsFailedOpenNotHammered(t *testing.T) {
	h := newHarness(t, testTargets, netnsTarget.Port())
	nss := h.serveNamespaces()
	wrap := ipNetns(t)
	name := wrap[len(wrap)-1]
	if out, err := exec.Command("ip", "-n", name, "addr", "flush", "dev", "lo").CombinedOutput(); err != nil {
		t.Fatalf("ip addr flush: %v: %s", err, out)
	}
	sleeper := exec.Command("ip", "netns", "exec", name, "sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() })
	waitInNetns(t, sleeper.Process.Pid, name)

	const spin = 300 * time.Millisecond
	reports := 0
	for start := time.Now(); time.Since(start) < spin; reports++ {
		_ = nss.Ensure(context.Background(), sleeper.Process.Pid)
	}
	time.Sleep(2 * netnsRetrySoon) // let the last scheduled retry run
	tries := nss.Stats().Failures
	// One try, then at most one per wait while the reports go on, and the
	// retry after the last of them.
	if bound := uint64(spin/netnsRetrySoon) + 2; tries == 0 || tries > bound {
		t.Errorf("%d reports made %d tries to open the listener, want 1 to %d", reports, tries, bound)
	}
	t.Logf("%d reports in %v: %d tries", reports, spin, tries)
}

// waitInNetns waits until pid has entered the named namespace.
func waitInNetns(t *testing.T, pid int, name string) {
	t.Helper()
	ns, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	var want unix.Stat_t
	if err := unix.Fstat(int(ns), &want); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ino, err := netnsInode(pid); err == nil && ino == want.Ino {
			return
		}
	}
	t.Fatalf("pid %d never entered netns %s", pid, name)
}

// TestNetnsEnsureAfterClose: a report that arrives once Close has begun (a
// retry timer that was already firing, a reporter with its own context)
// opens nothing: a listener opened then would never be released.
func TestNetnsEnsureAfterClose(t *testing.T) {
	h := newHarness(t, testTargets, netnsTarget.Port())
	nss := h.serveNamespaces()
	wrap := ipNetns(t)
	name := wrap[len(wrap)-1]
	sleeper := exec.Command("ip", "netns", "exec", name, "sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() })
	waitInNetns(t, sleeper.Process.Pid, name)
	if err := nss.Close(); err != nil {
		t.Fatal(err)
	}
	if err := nss.Ensure(context.Background(), sleeper.Process.Pid); err != nil {
		t.Errorf("Ensure after Close: %v", err)
	}
	if s := nss.Stats(); s.Served != 0 || s.Opened != 0 {
		t.Errorf("stats %+v: want nothing opened after Close", s)
	}
}
