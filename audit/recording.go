package audit

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrNotFound is returned for an unknown record, recording or session.
var ErrNotFound = errors.New("not found")

// gzipWriters are reused: a fresh gzip.Writer allocates ~1 MB of tables.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

// compressRecording encodes rc as gzip'd JSON. gzip (stdlib) rather than zstd:
// no new dependency, and recordings are written once and read rarely.
func compressRecording(rc *Recording) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if err := json.NewEncoder(zw).Encode(rc); err != nil {
		return nil, fmt.Errorf("encoding recording: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compressing recording: %w", err)
	}
	return buf.Bytes(), nil
}

func decompressRecording(blob []byte) (*Recording, error) {
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		return nil, fmt.Errorf("opening recording: %w", err)
	}
	var rc Recording
	if err := json.NewDecoder(io.LimitReader(zr, 1<<30)).Decode(&rc); err != nil {
		return nil, fmt.Errorf("decoding recording: %w", err)
	}
	return &rc, nil
}

// Recording returns the recording linked to record recordID.
func (s *Store) Recording(ctx context.Context, recordID int64) (*Recording, error) {
	var blob []byte
	err := s.db.QueryRowContext(ctx, `SELECT data FROM recordings WHERE seq = ?`, recordID).Scan(&blob)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("recording of record %d: %w", recordID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading recording %d: %w", recordID, err)
	}
	return decompressRecording(blob)
}
