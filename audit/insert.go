package audit

import (
	"context"
	"database/sql"
	"strings"
)

// writeStmts are the writer's statements, prepared once: parsing the SQL
// anew for every record was an eighth of the daemon's CPU under load.
type writeStmts struct{ record, recording, anchor, spool *sql.Stmt }

// insertRecord names the search columns after the rest, in searchColumns' order.
var insertRecord = func() string {
	cols := []string{"time_ns", "session_id", "caller_uid", "caller_user", "caller_exe", "model", "decision", "size", "body", "prev_hash", "hash"}
	for _, c := range searchColumns {
		cols = append(cols, c.name)
	}
	return `INSERT INTO records(` + strings.Join(cols, ", ") + `) VALUES (?` + strings.Repeat(",?", len(cols)-1) + `)`
}()

func prepareWrites(ctx context.Context, db *sql.DB) (writeStmts, error) {
	var w writeStmts
	var err error
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&w.record, insertRecord},
		{&w.recording, `INSERT INTO recordings(seq, data) VALUES (?, ?)`},
		{&w.anchor, `INSERT INTO anchor(id, head_seq, head_hash) VALUES (1, ?, ?)
		ON CONFLICT(id) DO UPDATE SET head_seq = excluded.head_seq, head_hash = excluded.head_hash`},
		{&w.spool, `INSERT INTO spooled(id, seg, off) VALUES (1, ?, ?)
		ON CONFLICT(id) DO UPDATE SET seg = excluded.seg, off = excluded.off`},
	} {
		if *p.dst, err = db.PrepareContext(ctx, p.sql); err != nil {
			return w, err
		}
	}
	return w, nil
}

func (w writeStmts) close() {
	for _, st := range []*sql.Stmt{w.record, w.recording, w.anchor, w.spool} {
		if st != nil {
			st.Close()
		}
	}
}

// in returns the statements bound to tx.
func (w writeStmts) in(ctx context.Context, tx *sql.Tx) writeStmts {
	return writeStmts{tx.StmtContext(ctx, w.record), tx.StmtContext(ctx, w.recording), tx.StmtContext(ctx, w.anchor), tx.StmtContext(ctx, w.spool)}
}

func (s *Store) insertGroup(ctx context.Context, group []*writeJob) (chainHead, error) {
	for _, j := range group {
		s.finalize(j)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return chainHead{}, err
	}
	defer tx.Rollback()
	st := s.stmts.in(ctx, tx)
	head := s.head
	for _, j := range group {
		if head, err = insertOne(ctx, st, head, j); err != nil {
			return chainHead{}, err
		}
	}
	if _, err := st.anchor.ExecContext(ctx, head.seq, head.hash); err != nil {
		return chainHead{}, err
	}
	if last := lastSpooled(group); last.seg > 0 { // a replay starts after it
		if _, err := st.spool.ExecContext(ctx, int64(last.seg), last.off); err != nil {
			return chainHead{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return chainHead{}, err
	}
	for _, j := range group {
		s.size.Add(recordSize(j))
	}
	return head, nil
}

// recordSize is what a record counts against the store's size bound: its
// encoding and its recording.
func recordSize(j *writeJob) int64 { return int64(len(j.body) + len(j.blob)) }

func insertOne(ctx context.Context, st writeStmts, head chainHead, j *writeJob) (chainHead, error) {
	r := j.rec
	hash := linkHash(head.hash, j.body)
	args := append([]any{nanos(r.Time), r.SessionID, r.Caller.UID, r.Caller.User, r.Caller.Exe, r.Model, r.Decision,
		recordSize(j), j.body, head.hash, hash}, searchValues(r)...)
	res, err := st.record.ExecContext(ctx, args...)
	if err != nil {
		return head, err
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return head, err
	}
	if j.blob != nil {
		if _, err := st.recording.ExecContext(ctx, seq, j.blob); err != nil {
			return head, err
		}
	}
	r.ID, r.PrevHash, r.Hash = seq, head.hash, hash
	return chainHead{seq: seq, hash: hash}, nil
}

func countSpooled(group []*writeJob) (n uint64) {
	for _, j := range group {
		if j.pos.seg > 0 {
			n++
		}
	}
	return n
}

// lastSpooled is the spool position of the group's last spooled record.
func lastSpooled(group []*writeJob) spoolPos {
	for i := len(group) - 1; i >= 0; i-- {
		if group[i].pos.seg > 0 {
			return group[i].pos
		}
	}
	return spoolPos{}
}
