package approval

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/internal/testutil"
)

func testRequest(uid uint32, rule string) Request {
	return Request{Caller: caller.Process{PID: 4242, UID: uid, Exe: "/usr/bin/agent"}, Rule: rule,
		Reason: "high risk", Digest: "abc", Method: "POST", Path: "/v1/messages", Model: "claude-test"}
}

type result struct {
	out Outcome
	err error
}

// holdAsync starts Await in the background and returns the pending id once it is listed.
func holdAsync(t *testing.T, b *Broker, req Request) (string, <-chan result) {
	t.Helper()
	before := map[string]bool{}
	for _, p := range b.List() {
		before[p.ID] = true
	}
	ch := make(chan result, 1)
	go func() {
		out, err := b.Await(context.Background(), req)
		ch <- result{out, err}
	}()
	var id string
	testutil.Eventually(t, 10*time.Second, "the request to become pending", func() bool {
		for _, p := range b.List() {
			if !before[p.ID] {
				id = p.ID
				return true
			}
		}
		return false
	})
	return id, ch
}

func wait(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("Await did not return")
		return result{}
	}
}

func TestApproveReleasesHold(t *testing.T) {
	b := NewBroker(Config{Timeout: time.Hour})
	id, ch := holdAsync(t, b, testRequest(1000, "r1"))
	p, err := b.Get(id)
	if err != nil || p.Request.Rule != "r1" || p.Command != "airlock approvals approve "+id {
		t.Fatalf("Get = %+v, %v", p, err)
	}
	if err := b.Approve(id, "uid:0(root)", "looks fine", 0); err != nil {
		t.Fatal(err)
	}
	r := wait(t, ch)
	if r.err != nil || !r.out.Approved || r.out.Approver != "uid:0(root)" || r.out.ID != id || r.out.Reason != "looks fine" {
		t.Fatalf("outcome = %+v, %v", r.out, r.err)
	}
	err = b.Approve(id, "uid:0(root)", "", 0)
	if !errors.Is(err, ErrDecided) || !strings.Contains(err.Error(), "already approved by uid:0(root)") {
		t.Fatalf("second approve = %v, want ErrDecided naming who approved (single use)", err)
	}
	if len(b.List()) != 0 {
		t.Fatalf("pending after decision: %v", b.List())
	}
}

func TestDenyRefuses(t *testing.T) {
	b := NewBroker(Config{Timeout: time.Hour})
	id, ch := holdAsync(t, b, testRequest(1000, "r1"))
	if err := b.Deny(id, "uid:0(root)", "no"); err != nil {
		t.Fatal(err)
	}
	r := wait(t, ch)
	if r.err != nil || r.out.Approved || r.out.TimedOut || r.out.Approver != "uid:0(root)" || r.out.Reason != "no" {
		t.Fatalf("outcome = %+v, %v", r.out, r.err)
	}
}

// The default timeout, in simulated time (testing/synctest): the hold is
// denied exactly when it expires, not a moment before.
func TestTimeoutIsDenial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBroker(Config{})
		start := time.Now()
		out, err := b.Await(context.Background(), testRequest(1000, "r1"))
		if err != nil || out.Approved || !out.TimedOut || out.Approver != "timeout" {
			t.Fatalf("outcome = %+v, %v", out, err)
		}
		if held := time.Since(start); held != DefaultTimeout {
			t.Fatalf("held for %v, want the default timeout %v", held, DefaultTimeout)
		}
		if err := b.Approve(out.ID, "x", "", 0); !errors.Is(err, ErrDecided) || !strings.Contains(err.Error(), "timed out") {
			t.Fatalf("approve after timeout = %v, want ErrDecided saying it timed out", err)
		}
	})
}

func TestContextCancelWithdrawsHold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBroker(Config{Timeout: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { _, err := b.Await(ctx, testRequest(1, "r")); done <- err }()
		synctest.Wait() // Await is holding
		if len(b.List()) != 1 {
			t.Fatalf("%d pending, want the one hold", len(b.List()))
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if len(b.List()) != 0 {
			t.Fatal("cancelled hold is still listed")
		}
	})
}

func TestJITWindow(t *testing.T) {
	b := NewBroker(Config{Timeout: time.Hour})
	id, ch := holdAsync(t, b, testRequest(1000, "r1"))
	if err := b.Approve(id, "uid:0(root)", "", 30*time.Minute); err != nil {
		t.Fatal(err)
	}
	first := wait(t, ch)
	if !first.out.Approved || first.out.Until.IsZero() {
		t.Fatalf("first = %+v", first.out)
	}
	// Same caller (another pid) and rule: through at once, and the outcome says so.
	req := testRequest(1000, "r1")
	req.Caller.PID = 9999
	out, err := b.Await(context.Background(), req)
	if err != nil || !out.Approved || out.Approver != "window:"+id || out.Until.IsZero() {
		t.Fatalf("windowed outcome = %+v, %v", out, err)
	}
	// Another rule or another user is still held.
	for _, other := range []Request{testRequest(1000, "r2"), testRequest(1001, "r1")} {
		oid, och := holdAsync(t, b, other)
		if err := b.Deny(oid, "root", ""); err != nil {
			t.Fatal(err)
		}
		if r := wait(t, och); r.out.Approved {
			t.Fatalf("%+v passed through a window that is not its own", other)
		}
	}
}

// A one-minute window, in simulated time: still open at 59s, closed at 61s.
func TestJITWindowExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBroker(Config{Timeout: time.Hour})
		id, ch := holdAsync(t, b, testRequest(1, "r"))
		if err := b.Approve(id, "root", "", time.Minute); err != nil {
			t.Fatal(err)
		}
		wait(t, ch)
		time.Sleep(59 * time.Second)
		if out, err := b.Await(context.Background(), testRequest(1, "r")); err != nil || out.Approver != "window:"+id {
			t.Fatalf("inside the window: %+v, %v", out, err)
		}
		time.Sleep(2 * time.Second)
		id2, ch2 := holdAsync(t, b, testRequest(1, "r"))
		if id2 == id {
			t.Fatal("expired window reused")
		}
		_ = b.Deny(id2, "root", "")
		if r := wait(t, ch2); r.out.Approved {
			t.Fatal("request passed through an expired window")
		}
	})
}

func TestDenyWinsOverApprovalAndRevokesWindow(t *testing.T) {
	b := NewBroker(Config{Timeout: time.Hour})
	h := b.register(testRequest(1, "r")) // a hold whose waiter has not resumed yet
	if err := b.Approve(h.ID, "alice", "", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := b.Deny(h.ID, "bob", "changed my mind"); err != nil {
		t.Fatalf("deny after an unconsumed approval = %v, want it to win", err)
	}
	if err := b.Approve(h.ID, "alice", "", 0); !errors.Is(err, ErrDecided) {
		t.Fatalf("approve after deny = %v, want ErrDecided", err)
	}
	out := b.consume(h)
	if out.Approved || out.Approver != "bob" {
		t.Fatalf("outcome = %+v, want bob's denial", out)
	}
	if _, ok := b.fromWindow(testRequest(1, "r")); ok {
		t.Fatal("the approval's JIT window survived the deny")
	}
}

func TestTimeoutDoesNotOverrideApproval(t *testing.T) {
	b := NewBroker(Config{Timeout: time.Hour})
	h := b.register(testRequest(1, "r"))
	if err := b.Approve(h.ID, "alice", "", 0); err != nil {
		t.Fatal(err)
	}
	if err := b.decide(h.ID, Outcome{ID: h.ID, Approver: "timeout", TimedOut: true}); !errors.Is(err, ErrDecided) {
		t.Fatalf("timeout after approval = %v, want ErrDecided", err)
	}
	if out := b.consume(h); !out.Approved {
		t.Fatalf("outcome = %+v", out)
	}
}

// TestConcurrentDecisions races many holds against approvers and deniers (run with -race).
func TestConcurrentDecisions(t *testing.T) {
	b := NewBroker(Config{Timeout: time.Hour})
	const n = 40
	results := make(chan result, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			out, err := b.Await(context.Background(), testRequest(uint32(i), "r"))
			results <- result{out, err}
		}(i)
	}
	testutil.Eventually(t, 10*time.Second, "every request pending", func() bool { return len(b.List()) == n })
	pending := b.List()
	if len(pending) != n {
		t.Fatalf("%d pending, want %d", len(pending), n)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	denied := map[string]bool{}
	for _, p := range pending {
		for k := 0; k < 3; k++ {
			wg.Add(1)
			go func(id string, k int) {
				defer wg.Done()
				if k == 2 && id[0]%2 == 0 {
					if b.Deny(id, "denier", "") == nil {
						mu.Lock()
						denied[id] = true
						mu.Unlock()
					}
					return
				}
				_ = b.Approve(id, "approver", "", 0)
			}(p.ID, k)
		}
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		r := wait(t, results)
		if r.err != nil {
			t.Fatal(r.err)
		}
		mu.Lock()
		d := denied[r.out.ID]
		mu.Unlock()
		if d == r.out.Approved {
			t.Fatalf("approval %s: deny accepted=%v but approved=%v", r.out.ID, d, r.out.Approved)
		}
	}
}

func TestDecideUnknown(t *testing.T) {
	b := NewBroker(Config{})
	if err := b.Approve("nope", "x", "", 0); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if err := b.Deny("nope", "x", ""); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if _, err := b.Get("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
}

func TestOnPendingIsTold(t *testing.T) {
	seen := make(chan Pending, 1)
	b := NewBroker(Config{Timeout: time.Hour, OnPending: func(p Pending) { seen <- p }})
	go func() {
		p := <-seen
		_ = b.Approve(p.ID, "hook", "", 0)
	}()
	out, err := b.Await(context.Background(), testRequest(1, "r"))
	if err != nil || !out.Approved || out.Approver != "hook" {
		t.Fatalf("outcome = %+v, %v", out, err)
	}
}
