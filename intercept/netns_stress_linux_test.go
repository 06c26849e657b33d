//go:build linux

package intercept

import (
	"context"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/internal/poll"
	"github.com/airlock-dev/airlock/internal/testutil"
)

// childCgroup makes a cgroup below the harness's, as a runtime makes one per
// container; it is removed (before its parent) when t ends.
func childCgroup(t *testing.T, h *harness) string {
	dir := filepath.Join(h.cgroup, testutil.RandomName("c-"))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("creating child cgroup: %v", err)
	}
	t.Cleanup(func() { testutil.RemoveCgroup(t, dir) })
	return dir
}

// TestNetnsRace starts 100 namespaces back to back, each in a cgroup of its
// own and each connecting at once: every connection is intercepted (a refused
// one retried), none reaches anything else, and each namespace has its own
// listener. The count of first-contact refusals is reported.
func TestNetnsRace(t *testing.T) {
	const n = 100
	h := newHarness(t, testTargets, netnsTarget.Port())
	h.origins = make(chan *caller.Origin, n)
	h.listen()
	nss := h.serveNamespaces()
	wrap := unshareWrap(t, 0)
	procs := make([]*helperProc, n)
	for i := range procs {
		procs[i] = h.startHelperIn(childCgroup(t, h), wrap, netnsClientEnv()...)
	}
	refused, clientsRefused := 0, 0
	for _, p := range procs {
		res := p.wait(t)
		if res.Error != "" || !strings.HasPrefix(res.Response, "api:") {
			t.Errorf("client %d: %q (error %q), want intercepted", p.pid(), res.Response, res.Error)
		}
		refused += res.Refused
		if res.Refused > 0 {
			clientsRefused++
		}
	}
	seen := map[uint64]bool{}
	for range n {
		o := h.nextOrigin()
		if o.Process.Netns == h.loader.HostNetns() || seen[o.Process.Netns] {
			t.Errorf("origin netns %d: want one distinct non-host namespace per client", o.Process.Netns)
		}
		seen[o.Process.Netns] = true
	}
	s := nss.Stats()
	t.Logf("%d namespaces: %d clients refused at first contact (%d refusals in all), %d connections held until their listener opened; stats %+v",
		n, clientsRefused, refused, s.Held, s)
	if s.Opened != n {
		t.Errorf("opened %d listeners, want %d", s.Opened, n)
	}
	// Proactive discovery opens most listeners before the first connect;
	// the hold covers the rest, so no client is refused.
	if refused != 0 || s.Refused != 0 || s.HeldPassed < s.Held {
		t.Errorf("%d refusals seen by clients, stats %+v: want none, and every held connection let through", refused, s)
	}
}

// TestNetnsBound: a process that makes namespaces in a loop gets the daemon
// to serve MaxNamespaces of them and no more. Connections from namespaces
// past the bound are held until connect() times out, never let through,
// and counted; the log names them at the 1st, 2nd, 4th… only, so they
// cannot flood it. Once the served ones are released a new one is served.
func TestNetnsBound(t *testing.T) {
	const bound, past = 2, 8
	h := newHarness(t, testTargets, netnsTarget.Port())
	h.cfg.MaxNamespaces = bound
	core, logs := observer.New(zap.WarnLevel)
	h.nsLog = zap.New(core)
	h.listen()
	nss := h.serveNamespaces()
	wrap := unshareWrap(t, 0)
	// Each connects (served at first contact) and stays until told to go.
	lingering := make([]*helperProc, bound)
	for i := range lingering {
		lingering[i] = h.startHelperIn(h.cgroup, wrap, append(netnsClientEnv(), "HELPER_LINGER=1")...)
	}
	if s := waitServed(t, nss, bound); s.Served != bound {
		t.Fatalf("stats %+v: want the %d lingering namespaces served", s, bound)
	}
	turnedAway := make([]*helperProc, past)
	for i := range turnedAway {
		turnedAway[i] = h.startHelperIn(h.cgroup, wrap, "HELPER_DIAL="+netnsTarget.String(), "HELPER_SYNCNT=2")
	}
	for _, p := range turnedAway {
		if res := p.wait(t); !strings.Contains(res.Error, "timed out") {
			t.Errorf("a namespace past the bound: %q (error %q), want its connect held until it timed out", res.Response, res.Error)
		}
	}
	s := nss.Stats()
	if s.Served != bound || s.OverLimit != past {
		t.Errorf("stats %+v: want %d served and the %d first contacts past the bound counted", s, bound, past)
	}
	if n := logs.FilterMessage("serving a namespace at first contact").Len(); n > bits.Len64(s.OverLimit) || n == 0 {
		t.Errorf("%d warnings for %d turn-aways: want one at each power of two", n, s.OverLimit)
	}
	for _, p := range lingering {
		assertIntercepted(t, h, p.wait(t))
	}
	if s := waitServed(t, nss, 0); s.Served != 0 {
		t.Fatalf("stats %+v: want both released once their processes exited", s)
	}
	assertIntercepted(t, h, h.startHelperIn(h.cgroup, wrap, netnsClientEnv()...).wait(t))
}

// TestNetnsNoLeak runs 1,000 namespace create/destroy cycles (a client in a
// fresh namespace connects and exits) and checks that the daemon's open
// files, goroutines and listeners return to their baseline.
func TestNetnsNoLeak(t *testing.T) {
	cycles, parallel := 1000, 4
	if testing.Short() {
		cycles = 100
	}
	h := newHarness(t, testTargets, netnsTarget.Port())
	h.origins = make(chan *caller.Origin, cycles+1)
	h.listen()
	nss := h.serveNamespaces()
	wrap := unshareWrap(t, 0)
	h.startHelperIn(h.cgroup, wrap, netnsClientEnv()...).wait(t) // warm up lazily started parts
	waitServed(t, nss, 0)
	fds, goroutines := openFDs(t), waitGoroutines(0)
	var wg sync.WaitGroup
	work := make(chan struct{})
	for range parallel {
		wg.Go(func() {
			for range work {
				if res := h.startHelperIn(h.cgroup, wrap, netnsClientEnv()...).wait(t); res.Error != "" {
					t.Errorf("cycle client: %s", res.Error)
				}
			}
		})
	}
	for range cycles {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	s := waitServed(t, nss, 0)
	afterG := waitGoroutines(goroutines)
	after := waitFDs(t, fds)
	t.Logf("%d cycles: stats %+v; fds %d -> %d, goroutines %d -> %d", cycles, s, fds, after, goroutines, afterG)
	if s.Served != 0 || s.Opened != s.Released || s.Opened < uint64(cycles) {
		t.Errorf("stats %+v: want every listener opened and released", s)
	}
	if after > fds || afterG > goroutines {
		t.Errorf("fds %d -> %d, goroutines %d -> %d: want both back to baseline", fds, after, goroutines, afterG)
	}
}

// waitFDs waits (bounded) for the open files to fall back to want: the
// last helpers' pipes and sockets close a moment after they exit, which a
// loaded machine stretches; a leak stays.
func waitFDs(t *testing.T, want int) int {
	t.Helper()
	var n int
	_ = poll.Until(context.Background(), 10*time.Second, func() (bool, error) { // on timeout the caller judges the count
		n = openFDs(t)
		return n <= want, nil
	})
	return n
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// waitGoroutines waits (bounded) for the goroutine count to fall to want
// (0: settle for a moment) and returns it.
func waitGoroutines(want int) int {
	if want == 0 {
		time.Sleep(600 * time.Millisecond) // the rescans of rescanAfter
		return runtime.NumGoroutine()
	}
	_ = poll.Until(context.Background(), 10*time.Second, func() (bool, error) { // on timeout the caller judges the count
		return runtime.NumGoroutine() <= want, nil
	})
	return runtime.NumGoroutine()
}
