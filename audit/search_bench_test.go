package audit

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

const searchRecords = 100_000

// populateSearch writes n records with the spread of a busy host: 50
// callers, 3 models, 20 rules (one rare), 2% denials, over 30 days.
func populateSearch(b *testing.B, n int) *Store {
	s := openTest(b, StoreConfig{})
	var wg sync.WaitGroup
	const writers = 32
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += writers {
				if err := s.Write(context.Background(), searchRecord(i, n), nil); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return s
}

func searchRecord(i, n int) *Record {
	r := sampleRecord(i)
	r.Time = t0.Add(time.Duration(i) * 30 * 24 * time.Hour / time.Duration(n))
	r.SessionID = fmt.Sprintf("sess-%d", i/20)
	r.Caller.User, r.Caller.UID = fmt.Sprintf("user%02d", i%50), uint32(1000+i%50)
	r.Model = []string{"claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"}[i%3]
	r.Rule = fmt.Sprintf("rule-%02d", i%19)
	if i%1000 == 7 {
		r.Rule = "rare-rule"
	}
	if i%50 == 3 {
		r.Decision, r.Status = "deny", 403
	}
	return r
}

// BenchmarkSearch is the console's audit search over 100,000 records: the
// newest 100 that match, as the Audit page asks (the goal: under 200 ms).
func BenchmarkSearch(b *testing.B) {
	s := populateSearch(b, searchRecords)
	mid := t0.Add(15 * 24 * time.Hour)
	cases := []struct {
		name string
		f    Filter
	}{
		{"all", Filter{}},
		{"caller", Filter{Caller: "user07"}},
		{"model", Filter{Model: "claude-opus-4-1"}},
		{"rare_rule", Filter{Rule: "rare-rule"}},
		{"decision_deny", Filter{Decision: "deny"}},
		{"status_403", Filter{Status: 403}},
		{"time_range", Filter{Since: mid, Until: mid.Add(24 * time.Hour)}},
		{"combined", Filter{Since: mid, Caller: "user07", Model: "claude-opus-4-1", Decision: "allow"}},
		{"no_match", Filter{Rule: "no-such-rule", Caller: "nobody"}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			tc.f.Limit = 100
			for b.Loop() {
				if _, err := s.List(context.Background(), tc.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("usage_30d", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Usage(context.Background(), t0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify_record", func(b *testing.B) { // a record's page: its links, not the whole chain
		for b.Loop() {
			if _, err := s.VerifyAround(context.Background(), searchRecords/2); err != nil {
				b.Fatal(err)
			}
		}
	})
}
