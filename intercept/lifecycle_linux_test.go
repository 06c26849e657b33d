//go:build linux

package intercept

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/ebpf/link"

	"github.com/airlock-dev/airlock/internal/testutil"
)

// attachedPrograms counts the programs attached to the cgroup per hook.
func attachedPrograms(t *testing.T, cgroup string) map[string]int {
	t.Helper()
	f, err := os.Open(cgroup)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int{}
	for _, hk := range hooks {
		res, err := link.QueryPrograms(link.QueryOptions{Target: int(f.Fd()), Attach: hk.attach})
		if err != nil {
			t.Fatalf("querying %s: %v", hk.name, err)
		}
		out[hk.name] = len(res.Programs)
	}
	return out
}

func assertAttached(t *testing.T, cgroup string, want int) {
	t.Helper()
	for name, n := range attachedPrograms(t, cgroup) {
		if n != want {
			t.Errorf("%s: %d programs attached, want %d", name, n, want)
		}
	}
}

// TestCrashFailsClosedAdoptAndDetach: Close without Detach leaves the
// programs in force, so a target dial is refused and never reaches the
// original destination; a new Load adopts the pinned links (no second
// attachment); Detach leaves no link, no pin, and the cgroup can go.
func TestCrashFailsClosedAdoptAndDetach(t *testing.T) {
	origin := newOriginServer(t, "127.0.100.1:0")
	h := newHarness(t, testTargets, origin.addr.Port())
	h.listen()
	h.stop()
	if err := h.ln.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.loader.Close(); err != nil { // the "crash": no Detach
		t.Fatal(err)
	}
	res := h.runHelper("HELPER_DIAL=" + origin.addr.String())
	if !strings.Contains(res.Error, "connection refused") {
		t.Errorf("dial after crash: response %q error %q, want connection refused", res.Response, res.Error)
	}
	if n := origin.accepted.Load(); n != 0 {
		t.Errorf("original destination accepted %d connections after the crash, want 0", n)
	}
	assertAttached(t, h.cgroup, 1)

	restarted := h.cfg
	restarted.Mark, restarted.ExcludeSelf = RandomMark(), true // a restarted daemon: its own mark and tgid
	adopted, err := Load(restarted)
	if err != nil {
		t.Fatalf("Load after crash: %v", err)
	}
	h.loader = adopted
	assertAttached(t, h.cgroup, 1)
	if c, err := adopted.readConfig(); err != nil || c.Mark != restarted.Mark || c.ExcludedTgid != uint32(os.Getpid()) {
		t.Errorf("adopted config mark %#x tgid %d (%v), want the new daemon's %#x %d", c.Mark, c.ExcludedTgid, err, restarted.Mark, os.Getpid())
	}
	if targets, err := adopted.Targets(); err != nil || len(targets) != 1 {
		t.Errorf("adopted target set = %v, %v; want the pinned one", targets, err)
	}

	if err := adopted.Detach(); err != nil {
		t.Fatalf("Detach: %v", err)
	}
	assertAttached(t, h.cgroup, 0)
	if _, err := os.Stat(h.cfg.PinDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pin dir %s after Detach: %v, want it gone", h.cfg.PinDir, err)
	}
	testutil.RemoveCgroup(t, h.cgroup)
	if _, err := os.Stat(h.cgroup); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cgroup %s still exists", h.cgroup)
	}
}

// TestPassThrough: an allow-listed non-API SNI is relayed unchanged and
// reported; the client verifies the real server's certificate through it.
func TestPassThrough(t *testing.T) {
	cert := newTestCert(t, "relay.test")
	var requests atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		_, _ = w.Write([]byte("hello from the real server"))
	}))
	srv.Listener.Close()
	srv.Listener = listenTCP(t, "127.0.100.2:0")
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert.cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()

	h := newHarness(t, testTargets, netip.MustParseAddrPort(addr).Port())
	h.cert = cert
	h.cfg.RelayAllow = []string{"Relay.Test."}
	h.listen()
	res := h.runHelper("HELPER_DIAL="+addr, "HELPER_SNI=relay.test")
	if res.Error != "" || !strings.HasSuffix(res.Response, "hello from the real server") {
		t.Fatalf("client through relay: %q (error %q)", res.Response, res.Error)
	}
	if requests.Load() != 1 {
		t.Errorf("real server saw %d requests, want 1", requests.Load())
	}
	if d := h.nextDecision(); d.Kind != DecisionRelay || d.Origin.SNI != "relay.test" || d.Origin.Dst.String() != addr {
		t.Errorf("decision = %s sni %q dst %s, want a relay of relay.test to %s", d.Kind, d.Origin.SNI, d.Origin.Dst, addr)
	}
	if c, _ := h.loader.Counters(); c.Redirected < 1 {
		t.Errorf("counters %+v: the connection was not redirected, so nothing was relayed", c)
	}
	select {
	case o := <-h.origins:
		t.Errorf("non-API SNI reached the API handler: %+v", o)
	default:
	}
}

// TestInterceptorRun wires capture the way the daemon does (New, Run,
// Detach) and sends one API connection through it.
func TestInterceptorRun(t *testing.T) {
	origin := newOriginServer(t, "127.0.100.3:0")
	h := newHarness(t, testTargets, origin.addr.Port())
	if err := h.loader.Detach(); err != nil { // New loads its own
		t.Fatal(err)
	}
	ic, err := New(h.cfg, APIHandlerFunc(h.serveAPI), h.reporter(), nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.loader = ic.Loader
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ic.Run(ctx) }()
	res := h.runHelper("HELPER_DIAL="+origin.addr.String(), "HELPER_SNI="+testAPIHost)
	if !strings.HasPrefix(res.Response, "api:") {
		t.Errorf("client got %q (error %q), want the API handler's answer", res.Response, res.Error)
	}
	// SIGHUP's path: the running selection takes the new targets, so the
	// origin's address is no longer redirected.
	moved := netip.MustParsePrefix("127.0.101.0/24")
	ic.Retarget([]netip.Prefix{moved}, nil, []uint16{origin.addr.Port()})
	want := Target{Prefix: moved, Port: origin.addr.Port()}.String()
	testutil.Eventually(t, 10*time.Second, "the new target set", func() bool {
		got := ic.Targets()
		return len(got) == 1 && got[0].String() == want
	})
	before := origin.accepted.Load()
	if res := h.runHelper("HELPER_DIAL="+origin.addr.String(), "HELPER_SNI="+testAPIHost); strings.HasPrefix(res.Response, "api:") || origin.accepted.Load() != before+1 {
		t.Errorf("after Retarget the client got %q (error %q) and the origin %d connections, want the origin itself",
			res.Response, res.Error, origin.accepted.Load()-before)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if err := ic.Detach(); err != nil {
		t.Errorf("Detach: %v", err)
	}
	assertAttached(t, h.cgroup, 0)
}
