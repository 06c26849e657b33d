package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// walker checks each link against the one before it.
type walker struct {
	rep  *VerifyReport
	last link // the previous record (or the checkpoint/genesis, known=false)
}

func (w *walker) add(kind string, seq, to int64, format string, args ...any) {
	w.rep.Problems = append(w.rep.Problems, Problem{Kind: kind, Seq: seq, ToSeq: to, Detail: fmt.Sprintf(format, args...)})
}

func (w *walker) step(r storedRow) {
	w.rep.Records++
	rec, ok := r.consistent()
	if !ok {
		w.add(Edited, r.seq, 0, "record %d: its content does not match its hash", r.seq)
	} else if rec.RecordingHash != "" && (r.blob == nil || blobHash(r.blob) != rec.RecordingHash) {
		w.add(RecordingEdited, r.seq, 0, "record %d: its recording is missing or altered", r.seq)
	}
	if r.prev != w.last.hash {
		w.explainBreak(r)
	}
	w.last = link{seq: r.seq, prev: r.prev, hash: r.hash, contentOK: ok, known: true}
}

// explainBreak says why r does not chain to the record before it.
func (w *walker) explainBreak(r storedRow) {
	last := w.last
	switch {
	case r.seq > last.seq+1:
		w.add(Deleted, last.seq+1, r.seq-1, "records %d..%d were deleted (record %d chains to a missing record)",
			last.seq+1, r.seq-1, r.seq)
	case last.known && r.prev == last.prev:
		w.add(Inserted, last.seq, 0, "record %d was inserted: record %d chains past it to record %d's predecessor",
			last.seq, r.seq, last.seq)
	case last.known && last.contentOK:
		w.add(Edited, last.seq, 0, "record %d was edited and re-hashed: record %d still chains to its original hash",
			last.seq, r.seq)
	default:
		w.add(Deleted, r.seq, 0, "the chain breaks before record %d: a record before it was deleted or replaced", r.seq)
	}
}

// checkAnchor compares the last record walked with two independent tail
// anchors: the anchor row (updated in the same transaction as every write) and
// SQLite's AUTOINCREMENT counter (which never goes back). Deleting the newest
// records leaves both pointing past the remaining tail.
func (s *Store) checkAnchor(ctx context.Context, w *walker) error {
	head, err := loadHead(ctx, s.db)
	if err != nil {
		return err
	}
	var counter sql.NullInt64
	err = s.db.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = 'records'`).Scan(&counter)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("reading audit sequence: %w", err)
	}
	w.rep.HeadSeq, w.rep.HeadHash = head.seq, head.hash
	last := w.last
	switch {
	case last.seq < head.seq || last.seq < counter.Int64:
		w.add(Deleted, last.seq+1, max(head.seq, counter.Int64), "records %d..%d were deleted at the tail (the chain head is anchored at %d)",
			last.seq+1, max(head.seq, counter.Int64), max(head.seq, counter.Int64))
	case last.seq > head.seq:
		w.add(Inserted, head.seq+1, last.seq, "records %d..%d were appended after the anchored head %d", head.seq+1, last.seq, head.seq)
	case last.hash != head.hash:
		w.add(Edited, last.seq, 0, "record %d: its hash differs from the anchored head hash", last.seq)
	}
	return nil
}
