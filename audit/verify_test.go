package audit

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func hasProblem(rep VerifyReport, kind string, seq int64) bool {
	for _, p := range rep.Problems {
		if p.Kind == kind && p.Seq == seq {
			return true
		}
	}
	return false
}

func TestVerifyPinpointsTampering(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, s *Store)
		kind   string
		seq    int64
	}{
		{"edit body", func(t *testing.T, s *Store) {
			mustExec(t, rawDB(t, s), `UPDATE records SET body = replace(body, '"status":200', '"status":201') WHERE seq = 5`)
		}, Edited, 5},
		{"edit indexed column", func(t *testing.T, s *Store) {
			mustExec(t, rawDB(t, s), `UPDATE records SET decision = 'deny' WHERE seq = 4`)
		}, Edited, 4},
		{"edit and re-hash", func(t *testing.T, s *Store) {
			db := rawDB(t, s)
			var prev string
			var body []byte
			_ = db.QueryRow(`SELECT prev_hash, body FROM records WHERE seq = 6`).Scan(&prev, &body)
			body = []byte(strings.Replace(string(body), `"status":200`, `"status":201`, 1))
			mustExec(t, db, `UPDATE records SET body = ?, hash = ? WHERE seq = 6`, body, linkHash(prev, body))
		}, Edited, 6},
		{"delete middle", func(t *testing.T, s *Store) {
			mustExec(t, rawDB(t, s), `DELETE FROM records WHERE seq = 5`)
		}, Deleted, 5},
		{"delete oldest", func(t *testing.T, s *Store) {
			mustExec(t, rawDB(t, s), `DELETE FROM records WHERE seq <= 2`)
		}, Deleted, 1},
		{"delete newest", func(t *testing.T, s *Store) {
			mustExec(t, rawDB(t, s), `DELETE FROM records WHERE seq >= 9`)
		}, Deleted, 9},
		{"delete newest and rewrite anchor", func(t *testing.T, s *Store) {
			db := rawDB(t, s)
			var h string
			_ = db.QueryRow(`SELECT hash FROM records WHERE seq = 8`).Scan(&h)
			mustExec(t, db, `DELETE FROM records WHERE seq >= 9`)
			mustExec(t, db, `UPDATE anchor SET head_seq = 8, head_hash = ?`, h)
		}, Deleted, 9},
		{"insert in the middle", func(t *testing.T, s *Store) { insertForged(t, s, 5) }, Inserted, 5},
		{"append after head", func(t *testing.T, s *Store) { insertForged(t, s, 11) }, Inserted, 11},
		{"edit recording", func(t *testing.T, s *Store) {
			mustExec(t, rawDB(t, s), `UPDATE recordings SET data = x'00' WHERE seq = 3`)
		}, RecordingEdited, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := openTest(t, StoreConfig{})
			for i := 1; i <= 10; i++ {
				var rc *Recording
				if i == 3 {
					rc = sampleRecording()
				}
				if err := s.Write(context.Background(), sampleRecord(i), rc); err != nil {
					t.Fatal(err)
				}
			}
			if rep := verify(t, s); !rep.OK {
				t.Fatalf("intact store fails verification: %+v", rep.Problems)
			}
			c.tamper(t, s)
			rep := verify(t, s)
			if rep.OK || !hasProblem(rep, c.kind, c.seq) {
				t.Fatalf("want %s at %d, got %+v", c.kind, c.seq, rep.Problems)
			}
		})
	}
}

// insertForged inserts a correctly chained record at seq, shifting later
// records up, as someone who knows the hash algorithm would.
func insertForged(t *testing.T, s *Store, seq int64) {
	db := rawDB(t, s)
	mustExec(t, db, `UPDATE records SET seq = seq + 1000 WHERE seq >= ?`, seq)
	mustExec(t, db, `UPDATE records SET seq = seq - 999 WHERE seq >= 1000`)
	mustExec(t, db, `UPDATE recordings SET seq = seq + 1 WHERE seq >= ?`, seq)
	var prev string
	_ = db.QueryRow(`SELECT hash FROM records WHERE seq = ?`, seq-1).Scan(&prev)
	r := sampleRecord(int(seq))
	r.RequestID = fmt.Sprintf("forged_%d", seq)
	body, err := canonical(r)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `INSERT INTO records(seq, time_ns, session_id, caller_uid, caller_user, caller_exe, model, decision,
		size, body, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`, seq, nanos(r.Time), r.SessionID, r.Caller.UID,
		r.Caller.User, r.Caller.Exe, r.Model, r.Decision, len(body), body, prev, linkHash(prev, body))
}
