package central

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/internal/poll"
	"github.com/airlock-dev/airlock/internal/testutil"
)

// fleet is a real PostgreSQL and the local stores of some hosts.
type fleet struct {
	pg    *testutil.Postgres
	db    *DB
	local map[string]*audit.Store
}

func newFleet(t testing.TB, hosts ...string) *fleet {
	t.Helper()
	f := &fleet{pg: testutil.StartPostgres(t), local: map[string]*audit.Store{}}
	f.db = openDB(t, f.pg.URL)
	for _, h := range hosts {
		s, err := audit.Open(context.Background(), audit.StoreConfig{Path: filepath.Join(t.TempDir(), h+".db")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		f.local[h] = s
	}
	return f
}

func openDB(t testing.TB, url string) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := Open(ctx, Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// write appends n records to host's local store, as the gateway would.
func (f *fleet) write(t testing.TB, host string, n int) { f.writeN(t, host, 0, n) }

func (f *fleet) writeN(t testing.TB, host string, worker, n int) {
	t.Helper()
	for i := range n {
		rec := &audit.Record{RequestID: fmt.Sprintf("req_%s_%d_%d", host, worker, i), Caller: caller.Process{PID: 4000 + i, UID: 1000, User: "dev", Exe: "/usr/bin/node"},
			Method: "POST", Path: "/v1/messages", Model: "claude-test", Decision: "allow", Status: 200}
		rc := &audit.Recording{RequestBody: []byte(`{"model":"claude-test"}`), Status: 200}
		if err := f.local[host].Write(context.Background(), rec, rc); err != nil {
			t.Fatal(err)
		}
	}
}

// ship runs a shipper for host until the central head reaches want.
func (f *fleet) ship(t *testing.T, host string, want int64) *Shipper {
	t.Helper()
	s := &Shipper{DB: f.db, Local: f.local[host], Host: host, Batch: 37, Interval: 20 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	f.waitHead(t, host, want)
	return s
}

func (f *fleet) waitHead(t testing.TB, host string, want int64) {
	t.Helper()
	var got int64
	var err error
	if poll.Until(context.Background(), 60*time.Second, func() (bool, error) {
		got, err = f.db.HeadSeq(context.Background(), host)
		return err == nil && got >= want, nil
	}) != nil {
		t.Fatalf("%s: central head %d (err %v), want %d", host, got, err, want)
	}
}

func (f *fleet) count(t *testing.T, host string) int {
	t.Helper()
	var n int
	out := f.pg.Psql(t, fmt.Sprintf("SELECT count(*), count(DISTINCT seq) FROM records WHERE host = '%s'", host))
	var distinct int
	fmt.Sscanf(strings.ReplaceAll(out, "|", " "), "%d %d", &n, &distinct)
	if n != distinct {
		t.Errorf("%s: %d rows but %d distinct sequence numbers: something was stored twice", host, n, distinct)
	}
	return n
}

func (f *fleet) verify(t *testing.T) map[string]audit.VerifyReport {
	t.Helper()
	reps, err := f.db.Verify(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]audit.VerifyReport{}
	for _, r := range reps {
		out[r.Host] = r.VerifyReport
	}
	return out
}

// Two hosts ship concurrently: every record is central exactly once and each
// host's chain verifies; shipping again changes nothing.
func TestTwoHostsShipExactlyOnce(t *testing.T) {
	f := newFleet(t, "host-a", "host-b")
	f.write(t, "host-a", 120)
	f.write(t, "host-b", 75)
	var wg sync.WaitGroup
	for h, n := range map[string]int64{"host-a": 120, "host-b": 75} {
		wg.Go(func() { f.ship(t, h, n) })
	}
	wg.Wait()
	f.ship(t, "host-a", 120) // a second shipper from scratch: idempotent
	if a, b := f.count(t, "host-a"), f.count(t, "host-b"); a != 120 || b != 75 {
		t.Fatalf("central rows: host-a %d, host-b %d; want 120 and 75", a, b)
	}
	for h, rep := range f.verify(t) {
		if !rep.OK || rep.Records == 0 {
			t.Errorf("%s: chain does not verify centrally: %+v", h, rep.Problems)
		}
	}
}

// An operator with write access to the central database edits, deletes or
// reorders rows: verify --central names each, per host.
func TestCentralVerifyNamesTampering(t *testing.T) {
	f := newFleet(t, "host-a", "host-b")
	f.write(t, "host-a", 10)
	f.write(t, "host-b", 10)
	f.ship(t, "host-a", 10)
	f.ship(t, "host-b", 10)
	f.pg.Psql(t, `UPDATE records SET body = convert_to(replace(convert_from(body, 'UTF8'), '"allow"', '"deny"'), 'UTF8') WHERE host = 'host-a' AND seq = 4`)
	f.pg.Psql(t, `DELETE FROM records WHERE host = 'host-b' AND seq IN (6, 7)`)
	reps := f.verify(t)
	if a := reps["host-a"]; a.OK || !hasProblem(a, audit.Edited, 4) {
		t.Errorf("host-a: edit of record 4 not named: %+v", a.Problems)
	}
	if b := reps["host-b"]; b.OK || !hasProblem(b, audit.Deleted, 6) {
		t.Errorf("host-b: deletion of records 6..7 not named: %+v", b.Problems)
	}
	f.pg.Psql(t, `DELETE FROM records WHERE host = 'host-b' AND seq = 10`)
	if b := f.verify(t)["host-b"]; !hasProblem(b, audit.Deleted, 10) {
		t.Errorf("host-b: deletion at the tail not named: %+v", b.Problems)
	}
}

func hasProblem(rep audit.VerifyReport, kind string, seq int64) bool {
	for _, p := range rep.Problems {
		if p.Kind == kind && p.Seq == seq {
			return true
		}
	}
	return false
}

// PostgreSQL goes away for 30 seconds while the host keeps writing: local
// writes never fail or wait for it, and once it is back every record arrives
// exactly once. A shipper stopped mid-run resumes where the database stands.
func TestOutageLosesAndDuplicatesNothing(t *testing.T) {
	f := newFleet(t, "host-a")
	s := &Shipper{DB: f.db, Local: f.local["host-a"], Host: "host-a", Batch: 50, Interval: 20 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	f.write(t, "host-a", 100)
	f.waitHead(t, "host-a", 100)
	f.pg.Stop(t)
	outage := time.Now()
	written := 100
	for time.Since(outage) < 30*time.Second { // a steady load, bounded by the outage's length
		f.write(t, "host-a", 20)
		written += 20
		time.Sleep(200 * time.Millisecond)
	}
	f.pg.Start(t)
	f.waitHead(t, "host-a", int64(written))
	cancel()
	<-done
	if st := s.Stats(); st.Failures == 0 {
		t.Errorf("the shipper saw no failure during a 30 s outage: %+v", st)
	}
	f.write(t, "host-a", 30) // shipped by a new shipper, as after a restart
	f.ship(t, "host-a", int64(written+30))
	if n := f.count(t, "host-a"); n != written+30 {
		t.Errorf("central rows %d, want %d", n, written+30)
	}
	if rep := f.verify(t)["host-a"]; !rep.OK {
		t.Errorf("chain does not verify after the outage: %+v", rep.Problems)
	}
}

// Central retention drops old records but leaves each chain verifiable from
// its checkpoint, and deleting a kept record is still named.
func TestPruneKeepsChainsVerifiable(t *testing.T) {
	f := newFleet(t, "host-a", "host-b")
	f.write(t, "host-a", 20)
	f.write(t, "host-b", 5)
	cut := time.Now()
	time.Sleep(10 * time.Millisecond)
	f.write(t, "host-a", 10)
	f.ship(t, "host-a", 30)
	f.ship(t, "host-b", 5)
	n, err := f.db.Prune(context.Background(), cut)
	if err != nil || n != 25 {
		t.Fatalf("pruned %d (%v), want 25", n, err)
	}
	for h, rep := range f.verify(t) {
		if !rep.OK {
			t.Errorf("%s after pruning: %+v", h, rep.Problems)
		}
	}
	f.pg.Psql(t, `DELETE FROM records WHERE host = 'host-a' AND seq = 25`)
	if rep := f.verify(t)["host-a"]; !hasProblem(rep, audit.Deleted, 25) {
		t.Errorf("deleting a kept record after pruning is not named: %+v", rep.Problems)
	}
}

// A shipper stopped on purpose sends what is still waiting before it returns.
func TestStopShipsWhatIsWaiting(t *testing.T) {
	f := newFleet(t, "host-a")
	s := &Shipper{DB: f.db, Local: f.local["host-a"], Host: "host-a", Interval: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	f.waitHead(t, "host-a", 0)
	time.Sleep(100 * time.Millisecond) // the shipper found nothing and sleeps for an hour
	f.write(t, "host-a", 25)
	cancel()
	<-done
	if got, err := f.db.HeadSeq(context.Background(), "host-a"); err != nil || got != 25 {
		t.Errorf("central head after a stop: %d (%v), want 25", got, err)
	}
}
