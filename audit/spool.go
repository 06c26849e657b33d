package audit

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.uber.org/zap"
)

// The spool takes a record off the request's critical path without weakening
// what a crash can lose. Append writes the record's bytes (its canonical
// encoding and its recording, framed) to an append-only file with one
// write(2) and hands it to the writer goroutine, which compresses the
// recording, hashes it into the record, chains and commits it in groups. A write(2) is in the kernel's page cache when it returns, exactly
// like a WAL commit with synchronous=NORMAL: a SIGKILL of the daemon loses
// neither. Open replays whatever the last run spooled but did not commit; the
// commit that takes a record also stores its spool position, so a replay never
// inserts one twice.
//
// Files are segments (<db>.spool.<n>); a segment is removed once every record
// in it is committed.
const spoolSegment = 16 << 20 // bytes per segment before the next one starts

// spoolPos is where one record's frame ends: segment, then offset.
type spoolPos struct {
	seg uint64
	off int64
}

func (p spoolPos) after(q spoolPos) bool {
	return p.seg > q.seg || (p.seg == q.seg && p.off > q.off)
}

type spool struct {
	base     string // <db>.spool.
	mu       sync.Mutex
	f        *os.File
	seg      uint64
	size     int64
	closed   bool
	unqueued bool   // a spooled record never reached the writer: keep the files
	removed  uint64 // segments below this are gone
	frame    bytes.Buffer
}

func openSpool(dbPath string, seg uint64) (*spool, error) {
	s := &spool{base: dbPath + ".spool.", seg: seg, removed: seg}
	return s, s.open()
}

func (s *spool) open() error {
	f, err := os.OpenFile(s.base+strconv.FormatUint(s.seg, 10), os.O_WRONLY|os.O_CREATE|os.O_APPEND|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("opening audit spool: %w", err)
	}
	s.f, s.size = f, 0
	return nil
}

// append writes job's frame (length, CRC-32C, record length, the record's
// encoding, the recording's encoding) in one write and sets job.pos. The caller
// holds s.mu.
func (s *spool) append(job *writeJob) error {
	s.frame.Reset()
	var hdr [12]byte
	payload := 4 + len(job.body) + len(job.raw)
	binary.LittleEndian.PutUint32(hdr[0:], uint32(payload))
	binary.LittleEndian.PutUint32(hdr[8:], uint32(len(job.body)))
	crc := crc32.Update(crc32.Checksum(hdr[8:12], castagnoli), castagnoli, job.body)
	binary.LittleEndian.PutUint32(hdr[4:], crc32.Update(crc, castagnoli, job.raw))
	s.frame.Write(hdr[:])
	s.frame.Write(job.body)
	s.frame.Write(job.raw)
	if _, err := s.f.Write(s.frame.Bytes()); err != nil {
		return fmt.Errorf("writing audit spool: %w", err)
	}
	s.size += int64(s.frame.Len())
	job.pos = spoolPos{seg: s.seg, off: s.size}
	if s.frame.Cap() > 1<<20 {
		s.frame = bytes.Buffer{} // do not pin an outsized recording's buffer
	}
	if s.size >= spoolSegment {
		s.f.Close()
		s.seg++
		return s.open()
	}
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// release removes the segments below seg: every record in them is committed.
// Only the writer goroutine calls it.
func (s *spool) release(seg uint64) {
	for ; s.removed < seg; s.removed++ {
		os.Remove(s.base + strconv.FormatUint(s.removed, 10))
	}
}

// close stops appends and removes the segments when everything is committed.
func (s *spool) close(allCommitted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		s.f.Close()
	}
	if allCommitted && !s.unqueued {
		s.release(s.seg + 1)
	}
}

// spooledJobs reads every valid frame of the segments at dbPath.spool.* that
// ends after done, in order, and the highest segment number found. A frame
// cut short or failing its CRC ends its segment: it was never acknowledged.
func spooledJobs(dbPath string, segs []uint64, done spoolPos) ([]*writeJob, error) {
	var jobs []*writeJob
	for _, seg := range segs {
		b, err := os.ReadFile(dbPath + ".spool." + strconv.FormatUint(seg, 10))
		if err != nil {
			return nil, fmt.Errorf("reading audit spool: %w", err)
		}
		for off := int64(0); ; {
			job, n := readFrame(b[off:])
			if job == nil {
				break
			}
			off += n
			if job.pos = (spoolPos{seg, off}); job.pos.after(done) {
				jobs = append(jobs, job)
			}
		}
	}
	return jobs, nil
}

func readFrame(b []byte) (*writeJob, int64) {
	if len(b) < 12 {
		return nil, 0
	}
	n := int(binary.LittleEndian.Uint32(b[0:]))
	bodyLen := int(binary.LittleEndian.Uint32(b[8:]))
	if n < 4 || len(b) < 8+n || bodyLen > n-4 || crc32.Checksum(b[8:8+n], castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return nil, 0
	}
	job := &writeJob{rec: new(Record), body: bytes.Clone(b[12 : 12+bodyLen]), err: make(chan error, 1), pending: true}
	if raw := b[12+bodyLen : 8+n]; len(raw) > 0 {
		job.raw = bytes.Clone(raw)
	}
	if err := decodeRecord(job.body, job.rec); err != nil {
		return nil, 0
	}
	return job, int64(8 + n)
}

func spoolSegments(dbPath string) ([]uint64, error) {
	names, err := filepath.Glob(dbPath + ".spool.*")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var segs []uint64
	for _, n := range names {
		if seg, err := strconv.ParseUint(strings.TrimPrefix(n, dbPath+".spool."), 10, 64); err == nil {
			segs = append(segs, seg)
		}
	}
	slices.Sort(segs)
	return segs, nil
}

func decodeRecord(body []byte, rec *Record) error { return json.Unmarshal(body, rec) }

// replay commits what the last run spooled but did not commit, then starts
// this run's spool after every segment seen (with Sync normal; full has none).
func (s *Store) replay(ctx context.Context) error {
	lock, owner, err := lockSpool(s.cfg.Path)
	if err != nil || !owner {
		return err // another process owns the spool: no replay, no spool here
	}
	s.spoolLock = lock
	var done spoolPos
	err = s.db.QueryRowContext(ctx, `SELECT seg, off FROM spooled WHERE id = 1`).Scan(&done.seg, &done.off)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	segs, err := spoolSegments(s.cfg.Path)
	if err != nil {
		return err
	}
	jobs, err := spooledJobs(s.cfg.Path, segs, done)
	if err != nil {
		return err
	}
	if len(jobs) > 0 {
		s.log.Warn("committing audit records spooled by a daemon that stopped before committing them", zap.Int("records", len(jobs)))
	}
	for len(jobs) > 0 {
		group := jobs[:min(len(jobs), maxGroup)]
		if s.head, err = s.insertGroup(ctx, group); err != nil {
			return err
		}
		jobs = jobs[len(group):]
	}
	for _, seg := range segs {
		os.Remove(s.base() + strconv.FormatUint(seg, 10))
	}
	last := slices.Max(append(segs, done.seg))
	if s.cfg.Sync == SyncFull {
		return nil
	}
	s.spool, err = openSpool(s.cfg.Path, last+1)
	return err
}

func (s *Store) base() string { return s.cfg.Path + ".spool." }
