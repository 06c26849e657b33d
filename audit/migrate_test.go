package audit

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"
)

// baseDDL is the records table and its companions as every earlier version
// created them (with the index on time that the usage index made redundant).
const baseDDL = `
CREATE TABLE records (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	time_ns INTEGER NOT NULL, session_id TEXT NOT NULL, caller_uid INTEGER NOT NULL,
	caller_user TEXT NOT NULL, caller_exe TEXT NOT NULL, model TEXT NOT NULL, decision TEXT NOT NULL,
	size INTEGER NOT NULL, body BLOB NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX records_time ON records(time_ns);
CREATE INDEX records_session ON records(session_id, seq);
CREATE TABLE recordings (seq INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE anchor (id INTEGER PRIMARY KEY CHECK (id = 1), head_seq INTEGER NOT NULL, head_hash TEXT NOT NULL);
CREATE TABLE spooled (id INTEGER PRIMARY KEY CHECK (id = 1), seg INTEGER NOT NULL, off INTEGER NOT NULL);
CREATE TABLE checkpoints (id INTEGER PRIMARY KEY AUTOINCREMENT, time_ns INTEGER NOT NULL,
	first_seq INTEGER NOT NULL, prev_hash TEXT NOT NULL, pruned INTEGER NOT NULL);
`

// virtualDDL is what the console's search added to it: generated columns
// over the body, and their indexes.
const virtualDDL = `
ALTER TABLE records ADD COLUMN rule GENERATED ALWAYS AS (json_extract(CAST(body AS TEXT), '$.rule')) VIRTUAL;
ALTER TABLE records ADD COLUMN status GENERATED ALWAYS AS (json_extract(CAST(body AS TEXT), '$.status')) VIRTUAL;
ALTER TABLE records ADD COLUMN input_tokens GENERATED ALWAYS AS (json_extract(CAST(body AS TEXT), '$.input_tokens')) VIRTUAL;
ALTER TABLE records ADD COLUMN output_tokens GENERATED ALWAYS AS (json_extract(CAST(body AS TEXT), '$.output_tokens')) VIRTUAL;
ALTER TABLE records ADD COLUMN exe_name GENERATED ALWAYS AS (replace(caller_exe, rtrim(caller_exe, replace(caller_exe, '/', '')), '')) VIRTUAL;
CREATE INDEX records_rule ON records(rule, seq);
CREATE INDEX records_status ON records(status, seq);
CREATE INDEX records_uid ON records(caller_uid, seq);
CREATE INDEX records_user ON records(caller_user, seq);
CREATE INDEX records_exe ON records(caller_exe, seq);
CREATE INDEX records_exe_name ON records(exe_name, seq);
CREATE INDEX records_usage ON records(time_ns, caller_uid, caller_user, caller_exe, model, input_tokens, output_tokens);
`

// oldStore creates a store with an earlier version's DDL and fills it the
// way that version's writer did (its INSERT names only the base columns).
func oldStore(t *testing.T, ddl string, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.db")
	db, err := sql.Open("sqlite", dsn(path, SyncNormal))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustExec(t, db, ddl)
	prev := ""
	for i := 1; i <= n; i++ {
		prev = oldInsert(t, db, int64(i), prev, searchRecord(i, n), sampleRecording())
	}
	mustExec(t, db, `INSERT INTO anchor(id, head_seq, head_hash) VALUES (1, ?, ?)`, n, prev)
	return path
}

func oldInsert(t *testing.T, db *sql.DB, seq int64, prev string, r *Record, rc *Recording) string {
	t.Helper()
	r.Caller.Exe = fmt.Sprintf("/opt/tool%d/bin/python3", seq%2)
	blob, err := compressRecording(rc)
	if err != nil {
		t.Fatal(err)
	}
	r.RecordingHash = blobHash(blob)
	body, err := canonical(r)
	if err != nil {
		t.Fatal(err)
	}
	hash := linkHash(prev, body)
	mustExec(t, db, `INSERT INTO records(time_ns, session_id, caller_uid, caller_user, caller_exe,
		model, decision, size, body, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		nanos(r.Time), r.SessionID, r.Caller.UID, r.Caller.User, r.Caller.Exe, r.Model, r.Decision, len(body)+len(blob), body, prev, hash)
	mustExec(t, db, `INSERT INTO recordings(seq, data) VALUES (?, ?)`, seq, blob)
	return hash
}

// A store created with virtual search columns, or with none, is upgraded
// to plain columns on Open: search, usage, replay and verify work on its
// old records and on new ones, and a second Open changes nothing.
func TestOldSchemaIsUpgraded(t *testing.T) {
	for name, ddl := range map[string]string{"virtual columns": baseDDL + virtualDDL, "no search columns": baseDDL} {
		t.Run(name, func(t *testing.T) {
			const n = 60 // assertSearches counts for 60
			path := oldStore(t, ddl, n)
			s := openTest(t, StoreConfig{Path: path})
			assertPlainSchema(t, s)
			assertSearches(t, s, n)
			if err := s.Write(context.Background(), searchRecord(1007, n), sampleRecording()); err != nil {
				t.Fatal(err)
			}
			if recs, err := s.List(context.Background(), Filter{Rule: "rare-rule"}); err != nil || len(recs) != 2 {
				t.Fatalf("rare-rule after a new write: %d records, %v", len(recs), err)
			}
			if rep := verify(t, s); !rep.OK || rep.Records != n+1 {
				t.Fatalf("verify after the upgrade: %+v", rep)
			}
			rc, err := s.Recording(context.Background(), 5)
			if err != nil || !reflect.DeepEqual(rc, sampleRecording()) {
				t.Fatalf("an old record's recording: %+v, %v", rc, err)
			}
			s.Close()
			again := openTest(t, StoreConfig{Path: path})
			if rep := verify(t, again); !rep.OK || rep.Records != n+1 {
				t.Fatalf("verify after a second open: %+v", rep)
			}
		})
	}
}

// Two opens of the same old store at once (the daemon starting while
// `airlock audit verify --db` runs) both succeed and leave it upgraded: the
// upgrade holds SQLite's write lock, so the second waits for the first.
func TestConcurrentOpensOfAnOldStore(t *testing.T) {
	const n = 60 // assertSearches counts for 60
	path := oldStore(t, baseDDL+virtualDDL, n)
	var wg sync.WaitGroup
	stores := make([]*Store, 2)
	errs := make([]error, 2)
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(context.Background(), StoreConfig{Path: path}) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("open %d: %v", i, errs[i])
		}
		t.Cleanup(func() { s.Close() })
	}
	assertPlainSchema(t, stores[1])
	assertSearches(t, stores[1], n)
	if rep := verify(t, stores[0]); !rep.OK || rep.Records != n {
		t.Fatalf("verify: %+v", rep)
	}
}

func assertPlainSchema(t *testing.T, s *Store) {
	t.Helper()
	kinds, err := columnKinds(context.Background(), s.db, "records")
	if err != nil || needsUpgrade(kinds) {
		t.Fatalf("columns after the upgrade: %v, %v", kinds, err)
	}
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'records_time'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("records_time left: %d, %v", n, err)
	}
}

// assertSearches checks each search column against what searchRecord wrote.
func assertSearches(t *testing.T, s *Store, n int) {
	t.Helper()
	ctx := context.Background()
	for _, tc := range []struct {
		f    Filter
		want int
	}{{Filter{Rule: "rule-03"}, 4}, {Filter{Status: 403}, 2}, {Filter{Rule: "rare-rule"}, 1},
		{Filter{Caller: "python3"}, n}, {Filter{Caller: "/opt/tool1/bin/python3"}, n / 2}} {
		if recs, err := s.List(ctx, tc.f); err != nil || len(recs) != tc.want {
			t.Fatalf("%+v: %d records, want %d (%v)", tc.f, len(recs), tc.want, err)
		}
	}
	usage, err := s.Usage(ctx, t0.Add(-time.Duration(dayNS)))
	if err != nil {
		t.Fatal(err)
	}
	var in, out, reqs int64
	for _, u := range usage {
		in, out, reqs = in+u.InputTokens, out+u.OutputTokens, reqs+u.Requests
	}
	if reqs != int64(n) || in != 12*int64(n) || out != 34*int64(n) {
		t.Fatalf("usage: %d requests, %d in, %d out", reqs, in, out)
	}
}

// A search column edited to hide a record from a search (or emptied, as an
// older daemon writing to an upgraded store leaves it) is named as an edit
// of that record, though its body and hash are untouched.
func TestVerifyNamesAnEditedSearchColumn(t *testing.T) {
	for _, c := range searchColumns {
		for _, v := range []any{"hidden", nil} {
			t.Run(fmt.Sprintf("%s=%v", c.name, v), func(t *testing.T) {
				s := openTest(t, StoreConfig{})
				writeN(t, s, 5, false)
				mustExec(t, rawDB(t, s), `UPDATE records SET `+c.name+` = ? WHERE seq = 3`, v)
				if rep := verify(t, s); rep.OK || !hasProblem(rep, Edited, 3) || len(rep.Problems) != 1 {
					t.Fatalf("verify: %+v", rep)
				}
			})
		}
	}
}
