package audit

import (
	"context"
	"encoding/json"
	"fmt"
)

// Row is one record exactly as the chain holds it, with the columns that
// filters use: what a fleet's central store copies and verifies again.
type Row struct {
	Seq       int64
	TimeNS    int64
	UID       int64
	Session   string
	User      string
	Exe       string
	Model     string
	Decision  string
	Body      []byte // the canonical encoding the chain hashes
	Recording []byte // the stored recording (gzip or plain JSON), nil if none
	PrevHash  string
	Hash      string
}

// Record decodes the row's body.
func (r Row) Record() (Record, error) {
	var rec Record
	if err := json.Unmarshal(r.Body, &rec); err != nil {
		return rec, fmt.Errorf("decoding audit record %d: %w", r.Seq, err)
	}
	rec.ID, rec.PrevHash, rec.Hash = r.Seq, r.PrevHash, r.Hash
	return rec, nil
}

// DecodeRecording decodes a stored recording (either stored form).
func DecodeRecording(blob []byte) (*Recording, error) { return decompressRecording(blob) }

// Since returns up to limit rows after seq, oldest first.
func (s *Store) Since(ctx context.Context, after int64, limit int) ([]Row, error) {
	rows, err := s.db.QueryContext(ctx, selectStored+`WHERE r.seq > ? ORDER BY r.seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("reading audit records after %d: %w", after, err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var sr storedRow
		if err := sr.scan(rows); err != nil {
			return nil, fmt.Errorf("reading audit records after %d: %w", after, err)
		}
		out = append(out, sr.export())
	}
	return out, rows.Err()
}

func (r *storedRow) export() Row {
	return Row{Seq: r.seq, TimeNS: r.timeNS, UID: r.uid, Session: r.session, User: r.user, Exe: r.exe,
		Model: r.model, Decision: r.decision, Body: r.body, Recording: r.blob, PrevHash: r.prev, Hash: r.hash}
}

func importRow(r Row) storedRow {
	return storedRow{seq: r.Seq, timeNS: r.TimeNS, uid: r.UID, session: r.Session, user: r.User, exe: r.Exe,
		model: r.Model, decision: r.Decision, body: r.Body, blob: r.Recording, prev: r.PrevHash, hash: r.Hash}
}

// ChainVerifier checks rows of one chain in sequence order, wherever they are
// stored, with the same rules as Store.Verify: every edit, insertion,
// deletion and altered recording is named.
type ChainVerifier struct {
	rep VerifyReport
	w   walker
}

// NewChainVerifier starts at the genesis (or at a retention checkpoint: the
// first sequence number expected and the hash it chains to).
func NewChainVerifier(firstSeq int64, prevHash string) *ChainVerifier {
	v := &ChainVerifier{}
	v.w = walker{rep: &v.rep, last: link{hash: prevHash, seq: firstSeq - 1}}
	return v
}

// Step checks the next row.
func (v *ChainVerifier) Step(r Row) { v.w.step(importRow(r)) }

// Finish compares the last row with the head the chain should end at
// (headSeq 0: no head known) and returns the report.
func (v *ChainVerifier) Finish(headSeq int64, headHash string) VerifyReport {
	last := v.w.last
	switch {
	case headSeq == 0:
	case last.seq < headSeq:
		v.w.add(Deleted, last.seq+1, headSeq, "records %d..%d are missing at the tail (the head is %d)", last.seq+1, headSeq, headSeq)
	case last.seq == headSeq && last.hash != headHash:
		v.w.add(Edited, last.seq, 0, "record %d: its hash differs from the head hash", last.seq)
	}
	v.rep.HeadSeq, v.rep.HeadHash = last.seq, last.hash
	v.rep.OK = len(v.rep.Problems) == 0
	return v.rep
}

// LastSeq is the sequence number of the newest record (0: none).
func (s *Store) LastSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(max(seq), 0) FROM records`).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("reading the newest audit record: %w", err)
	}
	return seq, nil
}
