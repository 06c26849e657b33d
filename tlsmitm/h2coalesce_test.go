package tlsmitm

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// recordingConn keeps each write it is given, as the socket would see it.
type recordingConn struct {
	net.Conn // nil: only Write, Close and ConnectionState are called
	mu       sync.Mutex
	writes   [][]byte
	attempts int
	wrote    chan struct{}
	fail     error
}

func newRecordingConn() *recordingConn { return &recordingConn{wrote: make(chan struct{}, 100)} }

func (r *recordingConn) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if r.fail != nil {
		return 0, r.fail
	}
	r.writes = append(r.writes, bytes.Clone(p))
	r.wrote <- struct{}{}
	return len(p), nil
}

func (r *recordingConn) Close() error                         { return nil }
func (r *recordingConn) ConnectionState() tls.ConnectionState { return tls.ConnectionState{} }

func (r *recordingConn) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.writes)
}

// frameTypes parses one write back into its frames' types.
func (r *recordingConn) frameTypes(t *testing.T, i int) []http2.FrameType {
	t.Helper()
	r.mu.Lock()
	w := r.writes[i]
	r.mu.Unlock()
	r2 := bytes.NewReader(w)
	var types []http2.FrameType
	for {
		h, err := http2.ReadFrameHeader(r2)
		if err != nil {
			return types
		}
		types = append(types, h.Type)
		r2.Seek(int64(h.Length), io.SeekCurrent)
	}
}

func headerBlock() []byte {
	var b bytes.Buffer
	enc := hpack.NewEncoder(&b)
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "https"}, {":authority", testHost}, {":path", "/v1/messages"}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	return b.Bytes()
}

func TestCoalescingConnSendsHeadersWithBody(t *testing.T) {
	rec := newRecordingConn()
	c := newCoalescingConn(rec)
	fr := http2.NewFramer(c, nil) // one Write per frame, as the client's flushes
	expect := func(step string, writes int, types ...http2.FrameType) {
		t.Helper()
		if got := rec.count(); got != writes {
			t.Fatalf("%s: %d writes reached the socket, want %d", step, got, writes)
		}
		if types == nil {
			return
		}
		if got := rec.frameTypes(t, writes-1); !slices.Equal(got, types) {
			t.Fatalf("%s: the last write held %v, want %v", step, got, types)
		}
	}

	c.Write([]byte(http2.ClientPreface))
	fr.WriteSettings()
	expect("preface and settings", 2, http2.FrameSettings)

	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: headerBlock(), EndHeaders: true})
	expect("headers announcing a body", 2)
	fr.WriteData(1, true, []byte(`{"a":1}`))
	expect("its body", 3, http2.FrameHeaders, http2.FrameData)

	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: headerBlock(), EndHeaders: true, EndStream: true})
	expect("headers without a body", 4, http2.FrameHeaders)

	hb := headerBlock()
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 5, BlockFragment: hb[:3]})
	expect("an unfinished header block", 5, http2.FrameHeaders)
	fr.WriteContinuation(5, true, hb[3:])
	expect("the block's end", 5)
	fr.WriteData(5, true, []byte("x"))
	expect("its body", 6, http2.FrameContinuation, http2.FrameData)

	// A large frame split over several writes must not lose the boundaries.
	var big bytes.Buffer
	http2.NewFramer(&big, nil).WriteData(7, false, make([]byte, 40000))
	for _, part := range [][]byte{big.Bytes()[:5], big.Bytes()[5:100], big.Bytes()[100:]} {
		c.Write(part)
	}
	expect("a split DATA frame", 9)

	// A frame too large to copy goes out right after the held headers.
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 9, BlockFragment: headerBlock(), EndHeaders: true})
	fr.WriteData(9, true, make([]byte, maxCoalesce))
	expect("a large frame", 11, http2.FrameData)
	if got := rec.frameTypes(t, 9); !slices.Equal(got, []http2.FrameType{http2.FrameHeaders}) {
		t.Fatalf("before a large frame: the write held %v, want the headers alone", got)
	}

	// Headers no write follows go out alone after holdLimit.
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 11, BlockFragment: headerBlock(), EndHeaders: true})
	expect("headers no write follows", 11)
	select {
	case <-waitWrites(rec, 12):
	case <-time.After(10 * time.Second):
		t.Fatal("held headers never reached the socket")
	}
	expect("held headers on their own", 12, http2.FrameHeaders)
}

func TestCoalescingConnReportsAFailedFlush(t *testing.T) {
	rec := newRecordingConn()
	c := newCoalescingConn(rec)
	c.Write([]byte(http2.ClientPreface))
	rec.mu.Lock()
	rec.fail = errors.New("connection reset")
	rec.mu.Unlock()
	fr := http2.NewFramer(c, nil)
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: headerBlock(), EndHeaders: true}); err != nil {
		t.Fatalf("held headers: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		rec.mu.Lock()
		attempts := rec.attempts
		rec.mu.Unlock()
		if attempts == 2 { // the preface, then the held headers' own write
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("held headers were never written")
		}
	}
	if err := fr.WritePing(false, [8]byte{}); err == nil || err.Error() != "connection reset" {
		t.Fatalf("the write after a failed flush returned %v, want the socket's error", err)
	}
}

func waitWrites(rec *recordingConn, n int) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		for rec.count() < n {
			<-rec.wrote
		}
		close(done)
	}()
	return done
}
