package tlsmitm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestUpstreamProtocol(t *testing.T) {
	up, caFile := startUpstream(t, hashEcho())
	for proto, want := range map[string]string{"": "HTTP/2.0", ProtocolH2: "HTTP/2.0", ProtocolHTTP1: "HTTP/1.1"} {
		tr, err := NewUpstream(UpstreamConfig{Override: up.Listener.Addr().String(), ExtraCAFile: caFile, Protocol: proto})
		if err != nil {
			t.Fatal(err)
		}
		s := startServer(t, ForwardHandler(tr), nil)
		for range 3 { // keep-alive: later requests reuse the pooled connection
			resp, err := s.client(false).Post("https://"+testHost+"/v1/messages", "application/json", strings.NewReader(`{"a":1}`))
			if err != nil {
				t.Fatalf("protocol %q: %v", proto, err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.HasSuffix(string(got), " "+want) {
				t.Errorf("protocol %q: upstream answered %d %q, want a request over %s", proto, resp.StatusCode, got, want)
			}
		}
		tr.CloseIdleConnections()
	}
}

// A new upstream connection resumes the TLS session of an earlier one (an
// abbreviated handshake), for either protocol.
func TestUpstreamResumesSessions(t *testing.T) {
	up, caFile := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "resumed=%v", r.TLS.DidResume)
	}))
	for _, proto := range []string{ProtocolH2, ProtocolHTTP1} {
		tr, err := NewUpstream(UpstreamConfig{Override: up.Listener.Addr().String(), ExtraCAFile: caFile, Protocol: proto})
		if err != nil {
			t.Fatal(err)
		}
		client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		for i, want := range []string{"resumed=false", "resumed=true"} {
			resp, err := client.Get("https://" + testHost + "/v1/models")
			if err != nil {
				t.Fatalf("%s request %d: %v", proto, i, err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(got) != want {
				t.Errorf("%s request %d on a new connection: %q, want %q", proto, i, got, want)
			}
			tr.CloseIdleConnections() // the next request dials again
		}
	}
}

// countingConn counts the writes that reach the upstream socket.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// A request with a body reaches the upstream socket in one write, headers
// and body together, over either protocol: the upstream reads it whole
// instead of waking for the headers and again for the body.
func TestUpstreamSendsHeadersWithBody(t *testing.T) {
	var writes atomic.Int64
	up, caFile := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, writes.Load()) // every byte of the request has arrived by now
	}))
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return countingConn{c, &writes}, err
	}
	for _, proto := range []string{ProtocolH2, ProtocolHTTP1} {
		tr, err := NewUpstream(UpstreamConfig{Override: up.Listener.Addr().String(), ExtraCAFile: caFile, Protocol: proto, Dial: dial})
		if err != nil {
			t.Fatal(err)
		}
		client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		post := func() (sawWrites int64, proto string) {
			resp, err := client.Post("https://"+testHost+"/v1/messages", "application/json", strings.NewReader(benchRequest))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			n, _ := strconv.ParseInt(string(got), 10, 64)
			return n, resp.Proto
		}
		post() // the handshake and, for HTTP/2, the preface and settings
		before := writes.Load()
		if got, gotProto := post(); got-before != 1 {
			t.Errorf("%s (%s): a request with a body took %d writes to the upstream socket, want 1", proto, gotProto, got-before)
		}
		tr.CloseIdleConnections()
	}
}

// Requests of every body size, many at once over one HTTP/2 connection,
// arrive intact: held headers never reorder or lose a frame.
func TestUpstreamConcurrentBodies(t *testing.T) {
	up, caFile := startUpstream(t, hashEcho())
	tr, err := NewUpstream(UpstreamConfig{Override: up.Listener.Addr().String(), ExtraCAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 3 {
				body := bytes.Repeat([]byte{byte('a' + i)}, (i*3+j)*9000)
				req, _ := http.NewRequest(http.MethodPost, "https://"+testHost+"/v1/messages", bytes.NewReader(body))
				if j == 2 {
					req.Header.Set("Expect", "100-continue") // the client waits for the upstream's 100 before the body
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				sum := sha256.Sum256(body)
				want := fmt.Sprintf("%s %d %s HTTP/2.0", testHost, len(body), hex.EncodeToString(sum[:]))
				if string(got) != want {
					t.Errorf("request %d/%d: upstream saw %q, want %q", i, j, got, want)
				}
			}
		})
	}
	wg.Wait()
}
