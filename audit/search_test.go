package audit

import (
	"context"
	"errors"
	"testing"
)

// A record's page checks its own neighbourhood: an edit of the record, an
// edit of the record before it, and a deletion just before it are named;
// a clean record far from any tampering reads as intact.
func TestVerifyAroundNamesTamperingNearTheRecord(t *testing.T) {
	cases := []struct {
		name   string
		tamper string
		seq    int64
		kind   string
	}{
		{"edited record", `UPDATE records SET body = replace(body, '"status":200', '"status":201') WHERE seq = 5`, 5, Edited},
		{"edited predecessor", `UPDATE records SET body = replace(body, '"status":200', '"status":201') WHERE seq = 4`, 4, Edited},
		{"deleted predecessor", `DELETE FROM records WHERE seq = 4`, 4, Deleted},
		{"edited recording", `UPDATE recordings SET data = x'00' WHERE seq = 5`, 5, RecordingEdited},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, StoreConfig{})
			writeN(t, s, 10, true)
			mustExec(t, rawDB(t, s), tc.tamper)
			rep, err := s.VerifyAround(context.Background(), 5)
			if err != nil || rep.OK || !hasProblem(rep, tc.kind, tc.seq) {
				t.Fatalf("record 5 after %s: %+v, %v", tc.name, rep, err)
			}
			if far, err := s.VerifyAround(context.Background(), 9); err != nil || !far.OK {
				t.Fatalf("record 9, far from the tampering: %+v, %v", far, err)
			}
		})
	}
	s := openTest(t, StoreConfig{})
	writeN(t, s, 3, false)
	if _, err := s.VerifyAround(context.Background(), 7); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a missing record: %v", err)
	}
}

// The search columns filter by rule and status, and survive a reopen.
func TestSearchByRuleAndStatus(t *testing.T) {
	s := openTest(t, StoreConfig{})
	for i := range 30 {
		if err := s.Write(context.Background(), searchRecord(i, 30), nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		f    Filter
		want int
	}{{Filter{Rule: "rule-03"}, 2}, {Filter{Status: 403}, 1}, {Filter{Decision: "deny", Status: 200}, 0}, {Filter{Rule: "rare-rule"}, 1}} {
		recs, err := s.List(context.Background(), tc.f)
		if err != nil || len(recs) != tc.want {
			t.Fatalf("%+v: %d records, want %d (%v)", tc.f, len(recs), tc.want, err)
		}
		for _, r := range recs {
			if (tc.f.Rule != "" && r.Rule != tc.f.Rule) || (tc.f.Status != 0 && r.Status != tc.f.Status) {
				t.Fatalf("%+v matched %+v", tc.f, r)
			}
		}
	}
}
