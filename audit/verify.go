package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Problem kinds reported by Verify.
const (
	Edited          = "edited"           // a record's content no longer matches its link
	Inserted        = "inserted"         // a record that was never part of the chain
	Deleted         = "deleted"          // records missing from the chain
	RecordingEdited = "recording_edited" // a recording no longer matches its record
)

// Problem is one break in the chain, located as precisely as the evidence allows.
type Problem struct {
	Kind   string `json:"kind"`
	Seq    int64  `json:"seq"`              // the record concerned (first of a range)
	ToSeq  int64  `json:"to_seq,omitempty"` // last of a deleted range
	Detail string `json:"detail"`
}

// VerifyReport is the outcome of walking the chain.
type VerifyReport struct {
	OK         bool        `json:"ok"`
	Records    int         `json:"records"`
	HeadSeq    int64       `json:"head_seq"`
	HeadHash   string      `json:"head_hash"`
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
	Problems   []Problem   `json:"problems,omitempty"`
}

type link struct {
	seq              int64
	prev, hash       string
	contentOK, known bool
}

// Verify walks the chain from the newest retention checkpoint (or the
// genesis) to the anchored head and reports every edited, inserted or
// deleted record, including deletions at the tail.
func (s *Store) Verify(ctx context.Context) (VerifyReport, error) {
	s.settle(ctx)
	var rep VerifyReport
	start, err := s.latestCheckpoint(ctx)
	if err != nil {
		return rep, err
	}
	rep.Checkpoint = start
	w := walker{rep: &rep, last: link{hash: start.PrevHash, seq: start.FirstSeq - 1}}
	if err := s.walk(ctx, start.FirstSeq, &w); err != nil {
		return rep, err
	}
	if err := s.checkAnchor(ctx, &w); err != nil {
		return rep, err
	}
	rep.OK = len(rep.Problems) == 0
	return rep, nil
}

func (s *Store) latestCheckpoint(ctx context.Context) (*Checkpoint, error) {
	c := &Checkpoint{FirstSeq: 1}
	err := s.db.QueryRowContext(ctx, `SELECT first_seq, prev_hash, pruned FROM checkpoints ORDER BY id DESC LIMIT 1`).
		Scan(&c.FirstSeq, &c.PrevHash, &c.Pruned)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("reading audit checkpoint: %w", err)
	}
	return c, nil
}

func (s *Store) walk(ctx context.Context, from int64, w *walker) error {
	return s.eachRow(ctx, from, math.MaxInt64, w.step)
}

// eachRow calls fn with the stored rows from..to (inclusive), in order.
func (s *Store) eachRow(ctx context.Context, from, to int64, fn func(storedRow)) error {
	rows, err := s.db.QueryContext(ctx, selectStored+`WHERE r.seq BETWEEN ? AND ? ORDER BY r.seq`, from, to)
	if err != nil {
		return fmt.Errorf("verifying audit chain: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var row storedRow
		if err := row.scan(rows); err != nil {
			return fmt.Errorf("verifying audit chain: %w", err)
		}
		fn(row)
	}
	return rows.Err()
}

// VerifyAround checks record seq where it stands: its content against its
// hash, its recording, and its links to the records either side (the one
// before is checked against its own predecessor, so a deletion just before
// seq is named). A record's page needs this; Verify walks the whole chain.
func (s *Store) VerifyAround(ctx context.Context, seq int64) (VerifyReport, error) {
	var got []storedRow
	if err := s.eachRow(ctx, seq-2, seq+1, func(r storedRow) { got = append(got, r) }); err != nil {
		return VerifyReport{}, err
	}
	if !slices.ContainsFunc(got, func(r storedRow) bool { return r.seq == seq }) {
		return VerifyReport{}, fmt.Errorf("audit record %d: %w", seq, ErrNotFound)
	}
	var rep VerifyReport
	w := walker{rep: &rep, last: link{seq: got[0].seq - 1, hash: got[0].prev}}
	for _, r := range got {
		w.step(r)
	}
	head, err := loadHead(ctx, s.db)
	if err != nil {
		return rep, err
	}
	if last := got[len(got)-1]; last.seq == head.seq && last.hash != head.hash {
		w.add(Edited, last.seq, 0, "record %d: its hash differs from the anchored head", last.seq)
	}
	rep.HeadSeq, rep.HeadHash, rep.OK = head.seq, head.hash, len(rep.Problems) == 0
	return rep, nil
}

// storedRow is a record as stored, with the columns that filters use.
type storedRow struct {
	seq, timeNS, uid                    int64
	session, user, exe, model, decision string
	body, blob                          []byte
	prev, hash                          string
	search                              searchRow // nil: a row from elsewhere (a fleet's central store)
}

// searchRow holds a stored row's searchColumns as text (so a tampered value
// of any type is compared, not a scan error), NULL in a row that an older
// daemon wrote after the upgrade.
type searchRow []sql.NullString

// selectStored reads storedRow.scan's columns, followed by a WHERE clause.
var selectStored = func() string {
	q := `SELECT r.seq, r.time_ns, r.session_id, r.caller_uid, r.caller_user, r.caller_exe,
	r.model, r.decision, r.body, r.prev_hash, r.hash, g.data`
	for _, c := range searchColumns {
		q += ", r." + c.name
	}
	return q + ` FROM records r LEFT JOIN recordings g ON g.seq = r.seq `
}()

func (r *storedRow) scan(rows *sql.Rows) error {
	search := make(searchRow, len(searchColumns))
	dest := []any{&r.seq, &r.timeNS, &r.session, &r.uid, &r.user, &r.exe, &r.model, &r.decision, &r.body, &r.prev, &r.hash, &r.blob}
	for i := range search {
		dest = append(dest, &search[i])
	}
	r.search = search
	return rows.Scan(dest...)
}

// consistent: the body matches its link, and the indexed columns match the body.
func (r *storedRow) consistent() (Record, bool) {
	var rec Record
	if linkHash(r.prev, r.body) != r.hash || json.Unmarshal(r.body, &rec) != nil {
		return rec, false
	}
	return rec, nanos(rec.Time) == r.timeNS && rec.SessionID == r.session && int64(rec.Caller.UID) == r.uid &&
		rec.Caller.User == r.user && rec.Caller.Exe == r.exe && rec.Model == r.model && rec.Decision == r.decision &&
		r.search.matches(&rec)
}

// matches: every search column holds rec's value (an edit that hides a record
// from a search is an edit of that record).
func (s searchRow) matches(rec *Record) bool {
	if s == nil {
		return true
	}
	for i, v := range searchValues(rec) {
		if !s[i].Valid || s[i].String != fmt.Sprint(v) {
			return false
		}
	}
	return true
}
