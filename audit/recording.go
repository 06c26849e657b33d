package audit

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// ErrNotFound is returned for an unknown record, recording or session.
var ErrNotFound = errors.New("not found")

// gzipWriters are reused: a fresh gzip.Writer allocates its tables.
// klauspost/compress writes the same gzip format as the standard library
// (older recordings and readers are unaffected) in about two thirds of the
// time at this level.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

// storeRawBelow is the encoded size under which a recording is stored
// uncompressed: a gzip stream's fixed cost (building the Huffman tables,
// ~50 µs) outweighs the few hundred bytes it would save.
const storeRawBelow = 4 << 10

// compressRecording is rc's stored form: framed (encodeFramed), gzip'd when
// it is not small. gzip rather than zstd (measured about a fifth faster
// here): the stored format stays the one every earlier reader knows.
func compressRecording(rc *Recording) ([]byte, error) {
	return compressRaw(encodeFramed(rc))
}

// compressRaw is a recording's stored form: raw itself when small, else
// gzip'd. raw is framed, or JSON when it comes from an earlier version's spool.
func compressRaw(raw []byte) ([]byte, error) {
	if len(raw) < storeRawBelow {
		return bytes.Clone(raw), nil
	}
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(raw); err != nil {
		return nil, fmt.Errorf("compressing recording: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compressing recording: %w", err)
	}
	return buf.Bytes(), nil
}

// maxRecording bounds a gzip'd recording's decompressed size.
const maxRecording = 1 << 30

// decompressRecording reads every stored form: framed or JSON (earlier
// versions), each either as is or gzip'd; they are told apart by their
// first byte.
func decompressRecording(blob []byte) (*Recording, error) {
	raw := blob
	if bytes.HasPrefix(blob, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(blob))
		if err != nil {
			return nil, fmt.Errorf("opening recording: %w", err)
		}
		if raw, err = io.ReadAll(io.LimitReader(zr, maxRecording)); err != nil {
			return nil, fmt.Errorf("decompressing recording: %w", err)
		}
	}
	if bytes.HasPrefix(raw, []byte(recMagic)) {
		return decodeFramed(raw)
	}
	var rc Recording
	if err := json.Unmarshal(raw, &rc); err != nil {
		return nil, fmt.Errorf("decoding recording: %w", err)
	}
	return &rc, nil
}

// Recording returns the recording linked to record recordID.
func (s *Store) Recording(ctx context.Context, recordID int64) (*Recording, error) {
	s.settle(ctx)
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
