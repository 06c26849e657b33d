package audit

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"
)

const (
	maxGroup     = 256         // records committed per transaction at most
	pruneEvery   = 1024        // writes between retention passes
	pruneTicker  = time.Minute // and at least this often
	maxWriteWait = 30 * time.Second
	maxSettle    = 5 * time.Second       // a read waits at most this for the spooled records before it
	groupWait    = 10 * time.Millisecond // a group of spooled records commits at most this late (linger)
)

type writeJob struct {
	rec  *Record
	body []byte // canonical encoding
	blob []byte // compressed recording, nil if none
	pos  spoolPos
	err  chan error
	// raw is a spooled record's recording as JSON, compressed by the writer
	// (finalize), which then fills RecordingHash and body anew.
	raw     []byte
	pending bool
}

// queueSize bounds the records spooled but not yet committed (and their memory).
const queueSize = 512

// Write appends rec (and its recording, if any) to the chain. It returns once
// the record is committed to the database, having filled rec.ID, Hash and
// PrevHash; when it returns an error the record is not in the store.
func (s *Store) Write(ctx context.Context, rec *Record, rc *Recording) error {
	job, err := s.prepare(rec, rc)
	if err != nil {
		return err
	}
	if s.isClosing() {
		return ErrClosed
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
	// (The queue is buffered: a job queued as the writer finished draining
	// at Close was never taken.)
	select {
	case err := <-job.err:
		return err
	case <-s.done:
		select {
		case err := <-job.err:
			return err
		default:
			return ErrClosed
		}
	}
}

// Append is Write without waiting for the group commit: it returns once the
// record is in the spool, where a crash of the daemon cannot lose it (see
// spool.go); the writer chains and commits it moments later (retrying until
// it can), and Open replays it after a crash. rec's ID and chain fields are
// filled at that commit, so the caller must not read them. With Sync full
// there is no spool and Append is Write: it waits for the fsync'd commit.
func (s *Store) Append(ctx context.Context, rec *Record, rc *Recording) error {
	if s.spool == nil {
		return s.Write(ctx, rec, rc)
	}
	job, err := s.prepareSpooled(rec, rc)
	if err != nil {
		return err
	}
	// Spool order is commit order, so both happen under the spool's lock.
	s.spool.mu.Lock()
	defer s.spool.mu.Unlock()
	if s.spool.closed {
		return ErrClosed
	}
	if err := s.spool.append(job); err != nil {
		return err
	}
	select {
	case s.jobs <- job:
		s.appended.Add(1)
	case <-s.closing:
		// The writer drains no more (a full queue behind a failing database):
		// the record stays in the spool, which the next Open replays.
		s.spool.unqueued = true
	}
	return nil
}

// settle waits, bounded, until every record appended before the call is
// committed, so a read that follows an answered request sees its record.
func (s *Store) settle(ctx context.Context) {
	if s.spool == nil {
		return
	}
	target, deadline := s.appended.Load(), time.Now().Add(maxSettle)
	for s.committed.Load() < target && time.Now().Before(deadline) && ctx.Err() == nil && !s.isClosing() {
		time.Sleep(time.Millisecond)
	}
}

// prepare does the parallel part of a write (compression, encoding) in the caller.
func (s *Store) prepare(rec *Record, rc *Recording) (*writeJob, error) {
	s.fill(rec)
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

func (s *Store) fill(rec *Record) {
	if rec.Time.IsZero() {
		rec.Time = s.cfg.Now()
	}
	if rec.SessionID == "" {
		rec.SessionID = s.sessions.derive(rec)
	}
}

// prepareSpooled does on the caller's goroutine only what the spool needs
// before the answer goes out: the record's and the recording's encodings.
// The writer compresses the recording and hashes it into the chain
// (finalize). The job holds its own copy of the record: the caller may
// reuse rec once Append returns.
func (s *Store) prepareSpooled(rec *Record, rc *Recording) (*writeJob, error) {
	s.fill(rec)
	own := *rec
	own.RecordingHash = "" // the writer fills it (finalize)
	job := &writeJob{rec: &own, err: make(chan error, 1), pending: true}
	if rc != nil {
		job.raw = encodeFramed(rc) // compressed later, on the writer's goroutine
	}
	var err error
	if job.body, err = canonical(&own); err != nil {
		return nil, err
	}
	return job, nil
}

// finalize compresses a spooled record's recording and adds its hash to the
// record's encoding, on the writer's goroutine. A failure (it cannot happen
// for a recording that encoded once) keeps the record, without the recording.
func (s *Store) finalize(j *writeJob) {
	if !j.pending {
		return
	}
	j.pending = false
	if j.raw == nil {
		return
	}
	blob, err := compressRaw(j.raw)
	var body []byte
	if err == nil {
		body, err = addRecordingHash(j.rec, j.body, blobHash(blob))
	}
	if err != nil {
		s.log.Error("storing an audit record without its recording", zap.String("request_id", j.rec.RequestID), zap.Error(err))
		return
	}
	j.blob, j.body, j.raw = blob, body, nil
}

// addRecordingHash sets rec's recording hash and returns its encoding, from
// body, the encoding without it (prepareSpooled leaves the field empty; a
// record spooled by an earlier version with the field set is encoded anew).
// On an error rec is left as it was, matching body.
func addRecordingHash(rec *Record, body []byte, h string) ([]byte, error) {
	if rec.RecordingHash == "" {
		rec.RecordingHash = h
		return withRecordingHash(body, h), nil
	}
	old := rec.RecordingHash
	rec.RecordingHash = h
	out, err := canonical(rec)
	if err != nil {
		rec.RecordingHash = old
	}
	return out, err
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
			s.drain()
			return
		case <-tick.C:
			s.pruneLogged()
		case job := <-s.jobs:
			group := s.linger(s.collect(job))
			s.commit(group)
			if sincePrune += len(group); sincePrune >= pruneEvery {
				sincePrune = 0
				s.pruneLogged()
			}
		}
	}
}

// drain commits what is still queued at Close (the spool is closed to new
// records by then); the spool files go only if all of it is committed.
func (s *Store) drain() {
	ok := s.drainQueued()
	if s.spool == nil {
		return
	}
	s.spool.mu.Lock() // no Append queues after this: what did is drained next
	s.spool.closed = true
	s.spool.mu.Unlock()
	s.spool.close(s.drainQueued() && ok)
}

// drainQueued commits every queued job; false if any commit failed.
func (s *Store) drainQueued() bool {
	ok := true
	for {
		select {
		case job := <-s.jobs:
			ok = s.commit(s.collect(job)) && ok
		default:
			return ok
		}
	}
}

// linger lets a group of spooled records grow for up to groupWait before it
// commits. They are safe in the spool already, and every commit rewrites
// the same pages whatever its size (the tail leaf of each table and of each
// of the eight indexes, the anchor, the spool position): in groups of a few
// records those were most of the writer's WAL writes. A record written with
// Write has a caller waiting, so the group commits as soon as one is in it.
func (s *Store) linger(group []*writeJob) []*writeJob {
	if !allSpooled(group) || len(group) >= maxGroup {
		return group
	}
	timer := time.NewTimer(groupWait)
	defer timer.Stop()
	for len(group) < maxGroup {
		select {
		case j := <-s.jobs:
			if group = append(group, j); j.pos.seg == 0 {
				return group
			}
		case <-timer.C:
			return group
		case <-s.closing:
			return group
		}
	}
	return group
}

func allSpooled(group []*writeJob) bool {
	return !slices.ContainsFunc(group, func(j *writeJob) bool { return j.pos.seg == 0 })
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

// commit inserts a group. When that fails, the records written with Write
// fail (they are not in the store), and the spooled ones are retried, with the
// store reported not ready (so the gateway refuses new requests), until they
// commit or the store closes: they were acknowledged, and committing later
// ones first would let a replay skip them.
func (s *Store) commit(group []*writeJob) bool {
	err := s.tryCommit(group)
	for wait := 10 * time.Millisecond; err != nil; wait = min(2*wait, time.Second) {
		if group = s.failUnspooled(group, err); len(group) == 0 {
			return true
		}
		select {
		case <-s.closing:
			s.answer(group, err)
			return false
		case <-time.After(wait):
		}
		err = s.tryCommit(group)
	}
	s.answer(group, nil)
	return true
}

// failUnspooled answers the group's Write callers with err and returns the rest.
func (s *Store) failUnspooled(group []*writeJob, err error) []*writeJob {
	return slices.DeleteFunc(group, func(j *writeJob) bool {
		if j.pos.seg == 0 {
			j.err <- err
			return true
		}
		return false
	})
}

func (s *Store) tryCommit(group []*writeJob) error {
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
		return err
	}
	s.head = head
	s.writeErr.Store(nil)
	if last := lastSpooled(group); s.spool != nil && last.seg > 0 {
		s.spool.release(last.seg)
		s.committed.Add(countSpooled(group))
	}
	return nil
}

func (s *Store) answer(group []*writeJob, err error) {
	for _, j := range group {
		j.err <- err
	}
}

func (s *Store) isClosing() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}
