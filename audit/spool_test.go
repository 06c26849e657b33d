package audit

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestSIGKILLAfterAppend: a daemon killed in a burst of appends leaves some
// records only in the spool; the next Open commits them, so every
// acknowledged record is in the store, once, with its recording, and the
// chain verifies. A second Open finds nothing left to replay.
func TestSIGKILLAfterAppend(t *testing.T) {
	path, acked := killAfter(t, 2000, true)
	for range 2 { // the replay, then a clean reopen
		s := openTest(t, StoreConfig{Path: path})
		if rep := verify(t, s); !rep.OK {
			t.Fatalf("store does not verify after SIGKILL: %+v", rep.Problems)
		}
		recs, err := s.List(context.Background(), Filter{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, r := range recs {
			seen[r.RequestID]++
		}
		for _, id := range acked {
			if seen[id] != 1 {
				t.Fatalf("acknowledged record %s is in the store %d times", id, seen[id])
			}
		}
		for _, r := range recs { // the replayed ones' recordings were compressed at the replay
			if rc, err := s.Recording(context.Background(), r.ID); err != nil || len(rc.Events) == 0 || r.RecordingHash == "" {
				t.Fatalf("recording of record %d: %v", r.ID, err)
			}
		}
		s.Close()
		t.Logf("%d acknowledged appends, %d records after SIGKILL", len(acked), len(recs))
	}
	if left, _ := filepath.Glob(path + ".spool.*"); len(left) != 0 { // a clean Close commits and removes them
		t.Fatalf("spool segments left: %v", left)
	}
}

// TestSecondOpenerLeavesTheSpoolAlone: `airlock audit verify --db` beside a
// running daemon must not commit or remove the daemon's spooled records;
// only the owner of the spool lock replays and spools.
func TestSecondOpenerLeavesTheSpoolAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	owner := openTest(t, StoreConfig{Path: path})
	other := openTest(t, StoreConfig{Path: path})
	if owner.spool == nil || other.spool != nil {
		t.Fatalf("spool owner %v, second opener %v: want only the first", owner.spool != nil, other.spool != nil)
	}
	segs, _ := filepath.Glob(path + ".spool.*")
	if len(segs) != 1 {
		t.Fatalf("the owner's spool segment is gone: %v", segs)
	}
	if err := owner.Append(context.Background(), sampleRecord(2), sampleRecording()); err != nil {
		t.Fatal(err)
	}
	owner.Close()
	if rep := verify(t, other); !rep.OK || rep.Records != 1 {
		t.Fatalf("verify = %+v", rep)
	}
}

// TestReadSeesAppended: a read right after Append returns sees the record,
// though its commit happens on the writer goroutine.
func TestReadSeesAppended(t *testing.T) {
	s := openTest(t, StoreConfig{})
	for i := range 50 {
		if err := s.Append(context.Background(), sampleRecord(i), sampleRecording()); err != nil {
			t.Fatal(err)
		}
		recs, err := s.List(context.Background(), Filter{})
		if err != nil || len(recs) != i+1 {
			t.Fatalf("after %d appends List has %d records (%v)", i+1, len(recs), err)
		}
	}
}

// TestWriteCommitsTheLingeringGroup: a Write that finds spooled records
// waiting for their group to grow commits them with it, in spool order,
// before it returns: a record can never overtake a spooled one.
func TestWriteCommitsTheLingeringGroup(t *testing.T) {
	s := openTest(t, StoreConfig{})
	if err := s.Append(context.Background(), sampleRecord(1), sampleRecording()); err != nil {
		t.Fatal(err)
	}
	w := sampleRecord(2)
	if err := s.Write(context.Background(), w, nil); err != nil {
		t.Fatal(err)
	}
	if got := s.committed.Load(); got != 1 || w.ID != 2 {
		t.Fatalf("after the Write: %d spooled records committed, the Write's record is %d", got, w.ID)
	}
	recs, err := s.List(context.Background(), Filter{})
	if err != nil || len(recs) != 2 || recs[0].RequestID != "req_001" {
		t.Fatalf("records: %+v (%v)", recs, err)
	}
}

// TestAppendLeavesCallersRecord: the caller may reuse its record as soon as
// Append returns; the writer chains its own copy (run with -race).
func TestAppendLeavesCallersRecord(t *testing.T) {
	s := openTest(t, StoreConfig{})
	for i := range 100 {
		r := sampleRecord(i)
		if err := s.Append(context.Background(), r, nil); err != nil {
			t.Fatal(err)
		}
		r.Decision, r.ID, r.Hash = "changed after append", -1, "x"
	}
	recs, err := s.List(context.Background(), Filter{})
	if err != nil || len(recs) != 100 {
		t.Fatalf("%d records (%v)", len(recs), err)
	}
	for _, r := range recs {
		if r.Decision != "allow" || r.ID < 1 {
			t.Fatalf("stored %d %q", r.ID, r.Decision)
		}
	}
}

// TestAppendCompressesOnTheWriter: a recording large enough to be gzip'd is
// compressed by the writer, hashed into its record, and reads back whole.
func TestAppendCompressesOnTheWriter(t *testing.T) {
	s := openTest(t, StoreConfig{})
	rc := sampleRecording()
	big := bytes.Repeat([]byte("data: lorem ipsum dolor sit amet\n"), 2000)
	rc.Events = append(rc.Events, Event{Offset: time.Second, Data: big})
	if err := s.Append(context.Background(), sampleRecord(1), rc); err != nil {
		t.Fatal(err)
	}
	recs, err := s.List(context.Background(), Filter{})
	if err != nil || len(recs) != 1 || recs[0].RecordingHash == "" {
		t.Fatalf("records %+v (%v)", recs, err)
	}
	got, err := s.Recording(context.Background(), recs[0].ID)
	if err != nil || !bytes.Equal(got.Events[len(got.Events)-1].Data, big) {
		t.Fatalf("recording read back: %v", err)
	}
	if rep := verify(t, s); !rep.OK {
		t.Fatalf("verify = %+v", rep)
	}
	var size int
	if err := s.db.QueryRow(`SELECT length(data) FROM recordings`).Scan(&size); err != nil || size >= len(big)/4 {
		t.Fatalf("stored recording is %d bytes (%v): not compressed", size, err)
	}
}

// TestCloseBehindAFailingDatabase: with the database refusing commits, the
// queue fills and Appends block; Close still returns, every Append returns,
// and every acknowledged record is committed by the next Open.
func TestCloseBehindAFailingDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "audit.db")
	s, err := Open(ctx, StoreConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	setMaxPages(t, s, 1) // "disk full": SQLite refuses to grow the file
	big := string(bytes.Repeat([]byte("x"), 16<<10))
	var mu sync.Mutex
	var wg sync.WaitGroup
	acked := map[string]bool{}
	// Enough to fill the queue even with a whole group held by the writer,
	// retrying it: otherwise the queue may never fill.
	for i := range queueSize + maxGroup + 64 {
		wg.Go(func() {
			r := sampleRecord(i)
			r.Reason = big
			if s.Append(ctx, r, nil) == nil {
				mu.Lock()
				acked[r.RequestID] = true
				mu.Unlock()
			}
		})
	}
	for deadline := time.Now().Add(20 * time.Second); len(s.jobs) < queueSize; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the queue never filled (%d queued, ready %v)", len(s.jobs), s.Ready())
		}
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close hung behind a full queue")
	}
	wg.Wait()
	again := openTest(t, StoreConfig{Path: path})
	recs, err := again.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		delete(acked, r.RequestID)
	}
	if len(acked) > 0 || !verify(t, again).OK {
		t.Fatalf("%d acknowledged records missing after the reopen (of %d stored)", len(acked), len(recs))
	}
}
