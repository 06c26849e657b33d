package central

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/internal/testutil"
	"github.com/airlock-dev/airlock/policy/approval"
)

// holdingHost is one daemon's broker wired to the central queue.
type holdingHost struct {
	broker *approval.Broker
	relay  *Relay
}

func newHoldingHost(t *testing.T, db *DB, host string, timeout time.Duration) *holdingHost {
	t.Helper()
	h := &holdingHost{}
	h.broker = approval.NewBroker(approval.Config{Timeout: timeout,
		OnPending: func(p approval.Pending) { h.relay.Announce(p) },
		OnDecided: func(o approval.Outcome) { h.relay.Settled(o) }})
	h.relay = NewRelay(db, h.broker, host, nil)
	h.relay.Poll = 5 * time.Second // slower than the test's patience: decisions must arrive by NOTIFY
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.relay.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; h.broker.Close() })
	return h
}

type held struct {
	out     approval.Outcome
	err     error
	settled time.Time
}

// hold sends one request into the broker and returns its eventual outcome.
func (h *holdingHost) hold(rule string) <-chan held {
	ch := make(chan held, 1)
	go func() {
		out, err := h.broker.Await(context.Background(), approval.Request{Rule: rule, Reason: "test hold",
			Caller: caller.Process{UID: 1000, Exe: "/usr/bin/agent"}, Method: "POST", Path: "/v1/messages", Summary: "{…}"})
		ch <- held{out, err, time.Now()}
	}()
	return ch
}

func waitOpen(t *testing.T, db *DB, host string) Approval {
	t.Helper()
	var open []Approval
	testutil.Eventually(t, 20*time.Second, "a hold of "+host+" to appear centrally", func() bool {
		var err error
		open, err = db.Approvals(context.Background(), host, true)
		return err == nil && len(open) > 0
	})
	return open[0]
}

// A request held on one host is approved by an operator who reaches only the
// database; the held client is released within a second of the decision,
// and the approver's identity travels with it.
func TestCentralApprovalReleasesHeldRequest(t *testing.T) {
	pg := testutil.StartPostgres(t)
	daemonDB, operatorDB := openDB(t, pg.URL), openDB(t, pg.URL)
	host := newHoldingHost(t, daemonDB, "host-a", time.Minute)
	res := host.hold("opus-needs-approval")
	a := waitOpen(t, operatorDB, "host-a")
	if a.Rule != "opus-needs-approval" || a.Caller.Exe != "/usr/bin/agent" || a.Summary == "" {
		t.Errorf("published hold lacks what a reviewer needs: %+v", a)
	}
	decided := time.Now()
	if err := operatorDB.Decide(context.Background(), a.ID, DecisionApprove, "alice", "looks fine", 0); err != nil {
		t.Fatal(err)
	}
	r := <-res
	want := "central:alice (as database role " + roleOf(t, operatorDB) + ")"
	if r.err != nil || !r.out.Approved || r.out.Approver != want {
		t.Fatalf("held request: %+v %v, want approved by %s", r.out, r.err, want)
	}
	if lag := r.settled.Sub(decided); lag > time.Second {
		t.Errorf("the held request learned the decision after %v, want within a second", lag)
	}
	if err := operatorDB.Decide(context.Background(), a.ID, DecisionApprove, "bob", "", 0); !errors.Is(err, approval.ErrDecided) {
		t.Errorf("a second approval: %v, want ErrDecided (single use)", err)
	}
}

// Two reviewers race on each of many holds, one approving, one denying:
// exactly what the central record says happens to the request, a denial
// never loses to an approval the host has not acted on, and no hold is
// approved twice.
func TestCentralDecidersRace(t *testing.T) {
	pg := testutil.StartPostgres(t)
	daemonDB, opA, opB := openDB(t, pg.URL), openDB(t, pg.URL), openDB(t, pg.URL)
	host := newHoldingHost(t, daemonDB, "host-a", time.Minute)
	approved := 0
	defer func() { t.Logf("approved %d of 10 races, denied the rest", approved) }()
	for i := range 10 {
		res := host.hold("race")
		a := waitOpen(t, opA, "host-a")
		var wg sync.WaitGroup
		var errA, errB error
		wg.Go(func() { errA = opA.Decide(context.Background(), a.ID, DecisionApprove, "alice", "", 0) })
		wg.Go(func() { errB = opB.Decide(context.Background(), a.ID, DecisionDeny, "bob", "no", 0) })
		wg.Wait()
		r := <-res
		if r.out.Approved {
			approved++
		}
		final := lookup(t, opA, a.ID)
		switch {
		case errB == nil && r.out.Approved:
			t.Errorf("round %d: bob's denial was accepted but the request was approved (%+v)", i, r.out)
		case errB != nil && errA != nil:
			t.Errorf("round %d: neither decision was accepted: %v / %v", i, errA, errB)
		case (final.Decision == DecisionApprove) != r.out.Approved:
			t.Errorf("round %d: central record says %q, the request was approved=%v", i, final.Decision, r.out.Approved)
		}
	}
}

// A hold nobody decides times out as a denial, and the central record says so.
func TestCentralTimeoutIsSettled(t *testing.T) {
	pg := testutil.StartPostgres(t)
	db := openDB(t, pg.URL)
	host := newHoldingHost(t, db, "host-a", 2*time.Second)
	res := host.hold("slow")
	a := waitOpen(t, db, "host-a")
	if r := <-res; r.out.Approved || !r.out.TimedOut {
		t.Fatalf("undecided hold: %+v, want a timeout denial", r.out)
	}
	testutil.Eventually(t, 10*time.Second, "the central record of the timed-out hold to say timeout", func() bool {
		return lookup(t, db, a.ID).Decision == DecisionTimeout
	})
	if err := db.Decide(context.Background(), a.ID, DecisionApprove, "late", "", 0); !errors.Is(err, approval.ErrDecided) {
		t.Errorf("approving an expired hold: %v, want ErrDecided", err)
	}
}

func lookup(t *testing.T, db *DB, id string) Approval {
	t.Helper()
	all, err := db.Approvals(context.Background(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("approval %s not in the central queue", id)
	return Approval{}
}

// roleOf is the database role db connects as.
func roleOf(t *testing.T, db *DB) string {
	t.Helper()
	var role string
	if err := db.pool.QueryRow(context.Background(), `SELECT current_user`).Scan(&role); err != nil {
		t.Fatal(err)
	}
	return role
}

// A reviewer name is whatever the deciding client typed: the record keeps
// the role that wrote it beside any other name, and a name that is the
// role (or none) is the role alone.
func TestDecidedByKeepsTheDatabaseRole(t *testing.T) {
	pg := testutil.StartPostgres(t)
	daemonDB, operatorDB := openDB(t, pg.URL), openDB(t, pg.URL)
	host := newHoldingHost(t, daemonDB, "host-a", time.Minute)
	role := roleOf(t, operatorDB)
	for _, c := range []struct{ by, want string }{
		{"", role},
		{role, role},
		{"root", "root (as database role " + role + ")"},
		{role + " (as database role other)", role + " (as database role other) (as database role " + role + ")"},
	} {
		res := host.hold("opus-needs-approval")
		a := waitOpen(t, operatorDB, "host-a")
		if err := operatorDB.Decide(context.Background(), a.ID, DecisionDeny, c.by, "", 0); err != nil {
			t.Fatal(err)
		}
		if r := <-res; r.out.Approved || r.out.Approver != "central:"+c.want {
			t.Errorf("decided by %q: recorded %+v, want central:%s", c.by, r.out, c.want)
		}
	}
}
