package audit

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"go.uber.org/zap"
)

const (
	maxGroup     = 256         // records committed per transaction at most
	pruneEvery   = 1024        // writes between retention passes
	pruneTicker  = time.Minute // and at least this often
	maxWriteWait = 30 * time.Second
)

type writeJob struct {
	rec  *Record
	body []byte // canonical encoding
	blob []byte // compressed recording, nil if none
	err  chan error
}

// Write appends rec (and its recording, if any) to the chain. It returns once
// the record is committed to disk, having filled rec.ID, Hash and PrevHash.
func (s *Store) Write(ctx context.Context, rec *Record, rc *Recording) error {
	job, err := s.prepare(rec, rc)
	if err != nil {
		return err
	}
	select {
	case s.jobs <- job:
	case <-s.closing:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("queueing audit record: %w", ctx.Err())
	}
	// Once queued the record will be committed or fail; wait for that even if
	// ctx ends, so a caller never mistakes a written record for a lost one.
	return <-job.err
}

// prepare does the parallel part of a write (compression, encoding) in the caller.
func (s *Store) prepare(rec *Record, rc *Recording) (*writeJob, error) {
	if rec.Time.IsZero() {
		rec.Time = s.cfg.Now()
	}
	if rec.SessionID == "" {
		rec.SessionID = s.sessions.derive(rec)
	}
	job := &writeJob{rec: rec, err: make(chan error, 1)}
	if rc != nil {
		blob, err := compressRecording(rc)
		if err != nil {
			return nil, err
		}
		job.blob = blob
		rec.RecordingHash = blobHash(blob)
	}
	body, err := canonical(rec)
	if err != nil {
		return nil, err
	}
	job.body = body
	return job, nil
}

// writer is the single goroutine that extends the chain.
func (s *Store) writer() {
	defer close(s.done)
	tick := time.NewTicker(pruneTicker)
	defer tick.Stop()
	sincePrune := 0
	for {
		select {
		case <-s.closing:
			return
		case <-tick.C:
			s.pruneLogged()
		case job := <-s.jobs:
			group := s.collect(job)
			s.commit(group)
			if sincePrune += len(group); sincePrune >= pruneEvery {
				sincePrune = 0
				s.pruneLogged()
			}
		}
	}
}

// collect takes whatever else is already queued, so one fsync serves many writers.
func (s *Store) collect(first *writeJob) []*writeJob {
	group := []*writeJob{first}
	for len(group) < maxGroup {
		select {
		case j := <-s.jobs:
			group = append(group, j)
		default:
			return group
		}
	}
	return group
}

func (s *Store) commit(group []*writeJob) {
	ctx, cancel := context.WithTimeout(context.Background(), maxWriteWait)
	defer cancel()
	head, err := s.insertGroup(ctx, group)
	if err != nil {
		err = fmt.Errorf("writing audit records: %w", err)
		s.writeErr.Store(&err)
		s.log.Error("AUDIT STORE NOT WRITABLE: records are being refused", zap.String("path", s.cfg.Path), zap.Error(err))
		for _, j := range group { // rolled back: the links were never real
			j.rec.ID, j.rec.Hash, j.rec.PrevHash = 0, "", ""
		}
	} else {
		s.head = head
		s.writeErr.Store(nil)
	}
	for _, j := range group {
		j.err <- err
	}
}

// writeStmts are the writer's statements, prepared once: parsing the SQL
// anew for every record was an eighth of the daemon's CPU under load.
type writeStmts struct{ record, recording, anchor *sql.Stmt }

func prepareWrites(ctx context.Context, db *sql.DB) (writeStmts, error) {
	var w writeStmts
	var err error
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&w.record, `INSERT INTO records(time_ns, session_id, caller_uid, caller_user, caller_exe,
		model, decision, size, body, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)`},
		{&w.recording, `INSERT INTO recordings(seq, data) VALUES (?, ?)`},
		{&w.anchor, `INSERT INTO anchor(id, head_seq, head_hash) VALUES (1, ?, ?)
		ON CONFLICT(id) DO UPDATE SET head_seq = excluded.head_seq, head_hash = excluded.head_hash`},
	} {
		if *p.dst, err = db.PrepareContext(ctx, p.sql); err != nil {
			return w, err
		}
	}
	return w, nil
}

func (w writeStmts) close() {
	for _, st := range []*sql.Stmt{w.record, w.recording, w.anchor} {
		if st != nil {
			st.Close()
		}
	}
}

// in returns the statements bound to tx.
func (w writeStmts) in(ctx context.Context, tx *sql.Tx) writeStmts {
	return writeStmts{tx.StmtContext(ctx, w.record), tx.StmtContext(ctx, w.recording), tx.StmtContext(ctx, w.anchor)}
}

func (s *Store) insertGroup(ctx context.Context, group []*writeJob) (chainHead, error) {
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
	if err := tx.Commit(); err != nil {
		return chainHead{}, err
	}
	return head, nil
}

func insertOne(ctx context.Context, st writeStmts, head chainHead, j *writeJob) (chainHead, error) {
	r := j.rec
	hash := linkHash(head.hash, j.body)
	res, err := st.record.ExecContext(ctx,
		nanos(r.Time), r.SessionID, r.Caller.UID, r.Caller.User, r.Caller.Exe, r.Model, r.Decision,
		len(j.body)+len(j.blob), j.body, head.hash, hash)
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
