package e2e

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/internal/fakeapi"
	"github.com/airlock-dev/airlock/internal/testutil"
)

// holdHeader marks the one request whose response a gatedUpstream holds.
const holdHeader = "X-E2e-Hold"

// gatedUpstream is the fake API behind a gate: a request carrying holdHeader
// gets its first SSE event, then waits until Release. That makes "a request
// in flight" a state the test controls instead of a race against a timer.
type gatedUpstream struct {
	*fakeapi.Server
	Addr    string
	CAFile  string
	Started chan struct{} // closed once the held response has begun
	release chan struct{}
	once    sync.Once
}

// startGatedUpstream serves the fake API over TLS on loopback with a
// throwaway self-signed certificate for the API host.
func startGatedUpstream(t *testing.T, cfg fakeapi.Config) *gatedUpstream {
	t.Helper()
	g := &gatedUpstream{Server: fakeapi.New(cfg), Started: make(chan struct{}), release: make(chan struct{})}
	cert, caPEM := selfSignedAPICert(t)
	g.CAFile = filepath.Join(t.TempDir(), "gated-ca.pem")
	writeFile(t, g.CAFile, string(caPEM), 0o644)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g.Addr = ln.Addr().String()
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 30 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { g.Release(); srv.Close() })
	return g
}

// Release lets the held response go on (idempotent).
func (g *gatedUpstream) Release() {
	select {
	case <-g.release:
	default:
		close(g.release)
	}
}

func (g *gatedUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(holdHeader) == "" {
		g.Server.ServeHTTP(w, r)
		return
	}
	g.Server.ServeHTTP(&heldWriter{ResponseWriter: w, g: g, r: r}, r)
}

// heldWriter lets the first write through, then blocks the next one until
// the gate opens (or the request ends).
type heldWriter struct {
	http.ResponseWriter
	g      *gatedUpstream
	r      *http.Request
	writes int
}

func (h *heldWriter) Write(p []byte) (int, error) {
	if h.writes++; h.writes == 2 {
		h.g.once.Do(func() { close(h.g.Started) })
		select {
		case <-h.g.release:
		case <-h.r.Context().Done():
			return 0, h.r.Context().Err()
		}
	}
	return h.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController flush the underlying writer.
func (h *heldWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// selfSignedAPICert is a certificate for api.anthropic.com (and loopback)
// that is its own CA, for the daemon's upstream.extra_ca_file.
func selfSignedAPICert(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	return certFor(t, []string{APIHost, "localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
}

// certFor is a self-signed server certificate for names and ips that is its
// own CA, and its PEM.
func certFor(t *testing.T, names []string, ips []net.IP) (tls.Certificate, []byte) {
	t.Helper()
	return testutil.SelfSignedCert(t, names, ips)
}
func (g *gatedUpstream) upstreamConfig() string {
	return fmt.Sprintf("upstream:\n  override: %q\n  extra_ca_file: %s\n", g.Addr, g.CAFile)
}

// replaceKeyFile swaps path's content atomically (write, then rename), as secret
// managers do, keeping mode 0400.
func replaceKeyFile(t *testing.T, path, data string) {
	t.Helper()
	tmp := path + ".new"
	writeFile(t, tmp, data, 0o400)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
