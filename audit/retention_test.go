package audit

import (
	"context"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func TestRetentionByAgeKeepsChainVerifiable(t *testing.T) {
	clock := &fakeClock{now: t0.Add(time.Hour)}
	s := openTest(t, StoreConfig{MaxAge: time.Hour, Now: clock.Now})
	writeN(t, s, 10, true) // times t0+1s .. t0+10s
	clock.mu.Lock()
	clock.now = t0.Add(time.Hour + 5*time.Second + time.Millisecond) // records 1..5 are now too old
	clock.mu.Unlock()
	if err := s.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs, _ := s.List(context.Background(), Filter{})
	if len(recs) != 5 || recs[0].ID != 6 {
		t.Fatalf("after pruning: %d records, first %d", len(recs), recs[0].ID)
	}
	if _, err := s.Recording(context.Background(), 3); err == nil {
		t.Fatal("recording of a pruned record survived")
	}
	rep := verify(t, s)
	if !rep.OK || rep.Checkpoint == nil || rep.Checkpoint.FirstSeq != 6 || rep.Checkpoint.Pruned != 5 {
		t.Fatalf("verify after pruning = %+v (checkpoint %+v)", rep, rep.Checkpoint)
	}
	writeN(t, s, 2, false)
	if rep := verify(t, s); !rep.OK || rep.Records != 7 {
		t.Fatalf("verify after more writes = %+v", rep)
	}
	// Deleting the oldest kept record without a checkpoint is still caught.
	mustExec(t, rawDB(t, s), `DELETE FROM records WHERE seq = 6`)
	if rep := verify(t, s); rep.OK || !hasProblem(rep, Deleted, 6) {
		t.Fatalf("unrecorded deletion after a checkpoint: %+v", rep.Problems)
	}
}

func TestRetentionBySize(t *testing.T) {
	s := openTest(t, StoreConfig{})
	writeN(t, s, 10, false)
	var size int64
	_ = s.db.QueryRow(`SELECT SUM(size) FROM records WHERE seq > 7`).Scan(&size)
	s.cfg.MaxBytes = size // room for exactly the newest three
	if err := s.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs, _ := s.List(context.Background(), Filter{})
	if len(recs) != 3 || recs[0].ID != 8 {
		t.Fatalf("after size pruning: %d records", len(recs))
	}
	if rep := verify(t, s); !rep.OK {
		t.Fatalf("verify = %+v", rep.Problems)
	}
}
