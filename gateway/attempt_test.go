package gateway

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/net/http2"
)

// Issue 11, item 2: one client request is at most one upstream attempt. The
// upstream answers every request, once read to its end, with the error Go's
// h2 client replays on (RST_STREAM PROTOCOL_ERROR from the peer); the
// client gets one 502 and the upstream saw the request once, with a body or
// without.
func TestOneClientRequestIsOneUpstreamAttempt(t *testing.T) {
	s := newStack(t, allowAll, nil, "h2")
	leaf, err := s.ca.IssueLeaf(apiHost)
	if err != nil {
		t.Fatal(err)
	}
	var seen atomic.Int64
	s.redirect(serveRSTUpstream(t, *leaf, &seen))
	for _, body := range []string{messagesBody, ""} {
		before := seen.Load()
		r, _ := http.NewRequest("POST", "https://"+apiHost+"/v1/messages/batches/msgbatch_1/cancel", strings.NewReader(body))
		resp := s.send(t, "http1", r)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("body %q: status %d", body, resp.StatusCode)
		}
		if n := seen.Load() - before; n != 1 {
			t.Fatalf("body %q: one client request became %d upstream attempts", body, n)
		}
	}
}

// serveRSTUpstream is an h2 server that reads each request to its end,
// counts it, and resets the stream with PROTOCOL_ERROR.
func serveRSTUpstream(t testing.TB, leaf tls.Certificate, seen *atomic.Int64) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{leaf}, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go resetEveryStream(c, seen)
		}
	}()
	return ln.Addr().String()
}

func resetEveryStream(c net.Conn, seen *atomic.Int64) {
	defer c.Close()
	if _, err := io.ReadFull(c, make([]byte, len(http2.ClientPreface))); err != nil {
		return
	}
	fr := http2.NewFramer(c, c)
	fr.WriteSettings()
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			fr.WritePing(true, f.Data)
		case *http2.HeadersFrame, *http2.DataFrame:
			if f.Header().Flags.Has(http2.FlagDataEndStream) { // the same bit for HEADERS
				seen.Add(1)
				fr.WriteRSTStream(f.Header().StreamID, http2.ErrCodeProtocol)
			}
		}
	}
}
