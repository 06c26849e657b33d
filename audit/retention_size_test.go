package audit

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sumSize(tb testing.TB, s *Store) int64 {
	tb.Helper()
	var n int64
	if err := s.db.QueryRow(`SELECT COALESCE(SUM(size), 0) FROM records`).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// The size bound cuts where summing every newer record's size would (the
// query each pass once ran over the whole table), reading only the oldest
// records, and the store's count of its size stays the table's.
func TestSizeBoundCutsWhereTheWholeSumWould(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	for range 8 {
		s := openTest(t, StoreConfig{})
		for i := 1; i <= 20+r.IntN(40); i++ {
			rec := sampleRecord(i)
			rec.Reason = strings.Repeat("x", r.IntN(3000))
			var rc *Recording
			if r.IntN(2) == 0 {
				rc = sampleRecording()
			}
			if err := s.Write(ctx, rec, rc); err != nil {
				t.Fatal(err)
			}
		}
		total := sumSize(t, s)
		if got := s.size.Load(); got != total {
			t.Fatalf("store counts %d bytes, the table holds %d", got, total)
		}
		s.cfg.MaxBytes = 1 + r.Int64N(total)
		var want sql.NullInt64
		if err := s.db.QueryRow(`SELECT MAX(seq) FROM (SELECT seq, SUM(size) OVER (ORDER BY seq DESC) AS newer
			FROM records) WHERE newer > ?`, s.cfg.MaxBytes).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if err := s.Prune(ctx); err != nil {
			t.Fatal(err)
		}
		var first int64
		if err := s.db.QueryRow(`SELECT MIN(seq) FROM records`).Scan(&first); err != nil {
			t.Fatal(err)
		}
		if first != want.Int64+1 {
			t.Fatalf("bound %d of %d bytes: the oldest record kept is %d, want %d", s.cfg.MaxBytes, total, first, want.Int64+1)
		}
		if got, left := s.size.Load(), sumSize(t, s); got != left || left > s.cfg.MaxBytes {
			t.Fatalf("after pruning the store counts %d bytes, the table holds %d, the bound is %d", got, left, s.cfg.MaxBytes)
		}
		if rep := verify(t, s); !rep.OK {
			t.Fatalf("verify = %+v", rep.Problems)
		}
	}
}

// A restarted daemon knows its store's size: counted once at Open, records
// spooled but not committed included once they commit.
func TestStoreSizeIsCountedAtOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "audit.db")
	s := openTest(t, StoreConfig{Path: path})
	writeN(t, s, 10, true)
	if err := s.Append(ctx, sampleRecord(11), sampleRecording()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, StoreConfig{Path: path})
	if got, want := s.size.Load(), sumSize(t, s); got != want || want == 0 {
		t.Fatalf("reopened store counts %d bytes, the table holds %d", got, want)
	}
}

// A retention pass over a store under its size bound, as the writer runs
// one every thousand records: it must not read the whole table.
func BenchmarkPruneUnderBound(b *testing.B) {
	s := openTest(b, StoreConfig{MaxBytes: 1 << 40, MaxAge: 90 * 24 * time.Hour}) // the defaults, but a bigger bound
	for i := range 20000 {
		if err := s.Write(context.Background(), sampleRecord(i), nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if err := s.Prune(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
