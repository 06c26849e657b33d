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

// jsonBuffers hold a recording's JSON before it is stored or compressed.
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putJSONBuffer(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 { // do not pin the memory of an outsized recording
		jsonBuffers.Put(b)
	}
}

// storeRawBelow is the encoded size under which a recording is stored as
// plain JSON: a gzip stream's fixed cost (building the Huffman tables,
// ~50 µs) outweighs the few hundred bytes it would save.
const storeRawBelow = 4 << 10

// compressRecording encodes rc as JSON, gzip'd when it is not small. gzip
// (stdlib) rather than zstd: no new dependency, and recordings are written
// once and read rarely. The two forms are told apart by their first byte.
func compressRecording(rc *Recording) ([]byte, error) {
	jb := jsonBuffers.Get().(*bytes.Buffer)
	defer putJSONBuffer(jb)
	jb.Reset()
	if err := json.NewEncoder(jb).Encode(rc); err != nil {
		return nil, fmt.Errorf("encoding recording: %w", err)
	}
	return compressJSON(jb.Bytes())
}

// encodeRecording is rc's JSON, for compressJSON later (off the caller's goroutine).
func encodeRecording(rc *Recording) ([]byte, error) {
	b, err := json.Marshal(rc)
	if err != nil {
		return nil, fmt.Errorf("encoding recording: %w", err)
	}
	return b, nil
}

// compressJSON is a recording's stored form: js itself when small, else gzip'd.
func compressJSON(js []byte) ([]byte, error) {
	if len(js) < storeRawBelow {
		return bytes.Clone(js), nil
	}
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(js); err != nil {
		return nil, fmt.Errorf("compressing recording: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compressing recording: %w", err)
	}
	return buf.Bytes(), nil
}

func decompressRecording(blob []byte) (*Recording, error) {
	var rc Recording
	if len(blob) > 0 && blob[0] == '{' { // stored plain (a gzip stream starts 0x1f 0x8b)
		if err := json.Unmarshal(blob, &rc); err != nil {
			return nil, fmt.Errorf("decoding recording: %w", err)
		}
		return &rc, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		return nil, fmt.Errorf("opening recording: %w", err)
	}
	if err := json.NewDecoder(io.LimitReader(zr, 1<<30)).Decode(&rc); err != nil {
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
