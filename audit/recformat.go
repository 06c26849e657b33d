package audit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// recMagic starts a recording in the framed form (neither '{', which starts
// the JSON form of earlier versions, nor 0x1f, which starts gzip).
const recMagic = "\x00arec1"

// encodeFramed is rc in the framed form: magic, status, content type,
// request body, then each event's offset and bytes, every length a uvarint.
// It is a copy of the bytes, where the JSON form base64'd every event (a
// fifth of a streamed request's audit cost) and hid the SSE text's
// repetition from the compressor.
func encodeFramed(rc *Recording) []byte {
	n := len(recMagic) + 4*binary.MaxVarintLen64 + len(rc.ContentType) + len(rc.RequestBody)
	for _, e := range rc.Events {
		n += 2*binary.MaxVarintLen64 + len(e.Data)
	}
	b := append(make([]byte, 0, n), recMagic...)
	b = binary.AppendUvarint(b, uint64(rc.Status))
	b = appendBytes(b, []byte(rc.ContentType))
	b = appendBytes(b, rc.RequestBody)
	b = binary.AppendUvarint(b, uint64(len(rc.Events)))
	for _, e := range rc.Events {
		b = binary.AppendVarint(b, int64(e.Offset))
		b = appendBytes(b, e.Data)
	}
	return b
}

func appendBytes(b, p []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(p))), p...)
}

var errFramed = errors.New("decoding recording: truncated or malformed")

// decodeFramed reads encodeFramed's output. The recording's byte slices
// point into b. Every length is checked against what is left, so a
// tampered blob is an error, never a panic or an outsized allocation.
func decodeFramed(b []byte) (*Recording, error) {
	r := framedReader{b: bytes.TrimPrefix(b, []byte(recMagic))}
	rc := &Recording{Status: int(r.uvarint())}
	rc.ContentType = string(r.bytes())
	rc.RequestBody = r.bytes()
	n := r.uvarint()
	if n > uint64(len(r.b))/2 { // an event takes two bytes at least
		return nil, errFramed
	}
	rc.Events = make([]Event, 0, n)
	for range n {
		off := r.varint()
		rc.Events = append(rc.Events, Event{Offset: time.Duration(off), Data: r.bytes()})
	}
	if r.bad || len(r.b) != 0 {
		return nil, fmt.Errorf("%w (%d bytes left)", errFramed, len(r.b))
	}
	return rc, nil
}

// framedReader consumes b; after the first error it reads zeros and nils.
type framedReader struct {
	b   []byte
	bad bool
}

func (r *framedReader) uvarint() uint64 { return next(r, binary.Uvarint) }
func (r *framedReader) varint() int64   { return next(r, binary.Varint) }

// next reads one varint with read (binary.Uvarint or binary.Varint).
func next[T uint64 | int64](r *framedReader, read func([]byte) (T, int)) T {
	v, n := read(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes reads a length-prefixed slice; nil when empty (as JSON's null reads).
func (r *framedReader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	if n == 0 {
		return nil
	}
	return p
}
