package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// chainHead is the newest link of the chain: the next record chains to it.
type chainHead struct {
	seq  int64
	hash string
}

// canonical is the encoding the chain hashes: the record as JSON (Go encodes
// struct fields in declaration order and map keys sorted, so it is stable),
// with the store-assigned ID and the chain fields left out and the time in UTC.
// The ID is left out on purpose: the chain links, not the row numbers, prove
// order, so verify can tell an inserted record from edited neighbours.
func canonical(rec *Record) ([]byte, error) {
	c := *rec
	c.ID, c.Hash, c.PrevHash, c.Host = 0, "", "", ""
	c.Time = c.Time.UTC().Round(0)
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("encoding audit record: %w", err)
	}
	return b, nil
}

// withRecordingHash is canonical(rec) with RecordingHash set to h, from
// body = canonical(rec) without it: recording_sha256 is the last field the
// canonical encoding holds (Hash and PrevHash are always left out), so the
// writer appends it rather than encoding the record a second time.
func withRecordingHash(body []byte, h string) []byte {
	const key = `,"recording_sha256":"`
	out := make([]byte, 0, len(body)+len(key)+len(h)+1)
	out = append(out, body[:len(body)-1]...)
	out = append(append(out, key...), h...)
	return append(out, `"}`...)
}

// linkHash is SHA-256(prev hash ‖ canonical record), hex encoded.
func linkHash(prev string, body []byte) string {
	h := sha256.New()
	if raw, err := hex.DecodeString(prev); err == nil {
		h.Write(raw)
	}
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func blobHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func loadHead(ctx context.Context, db *sql.DB) (chainHead, error) {
	var h chainHead
	err := db.QueryRowContext(ctx, `SELECT head_seq, head_hash FROM anchor WHERE id = 1`).Scan(&h.seq, &h.hash)
	if errors.Is(err, sql.ErrNoRows) {
		return chainHead{}, nil
	}
	if err != nil {
		return h, fmt.Errorf("reading audit chain anchor: %w", err)
	}
	return h, nil
}

func nanos(t time.Time) int64 { return t.UnixNano() }
