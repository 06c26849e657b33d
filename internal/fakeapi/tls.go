package fakeapi

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/internal/atomicfile"
	"github.com/airlock-dev/airlock/internal/certgen"
)

// Running is a fake API served over TLS (h2 and HTTP/1.1) on loopback, with
// its own throwaway CA.
type Running struct {
	*Server
	Addr   string // "127.0.0.1:port"
	URL    string // "https://127.0.0.1:port"
	CAPEM  []byte // the CA certificate, for an upstream's extra CA file
	CAFile string // CAPEM written to a file
	Pool   *x509.CertPool

	srv        *http.Server
	tmpDir     string
	mu         sync.Mutex
	transports []*http.Transport
}

// DNSNames and IPs the leaf certificate is valid for.
var (
	leafNames = []string{"localhost", "api.anthropic.com"}
	leafIPs   = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
)

// StartTLS starts a fake API on 127.0.0.1 for the duration of a test.
func StartTLS(tb testing.TB, cfg Config) *Running {
	tb.Helper()
	r, err := StartTLSAt(cfg, "127.0.0.1:0", tb.TempDir())
	if err != nil {
		tb.Fatalf("starting the fake API: %v", err)
	}
	tb.Cleanup(func() { r.Close() })
	return r
}

// StartTLSAt serves a fake API on addr with a fresh CA whose certificate is
// written to dir/fakeapi-ca.pem (a private temporary directory when dir is "").
func StartTLSAt(cfg Config, addr, dir string) (*Running, error) {
	r := &Running{Server: New(cfg)}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "fakeapi-")
		if err != nil {
			return nil, fmt.Errorf("creating a directory for the CA: %w", err)
		}
		dir, r.tmpDir = tmp, tmp
	}
	cert, err := r.makeCerts(filepath.Join(dir, "fakeapi-ca.pem"))
	if err == nil {
		err = r.serve(addr, cert)
	}
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Running) serve(addr string, cert tls.Certificate) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	r.Addr, r.URL = ln.Addr().String(), "https://"+ln.Addr().String()
	r.srv = &http.Server{Handler: r.Server, ReadHeaderTimeout: 30 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}}
	go r.srv.ServeTLS(ln, "", "")
	return nil
}

// Client returns a new HTTP client (h2 and HTTP/1.1) that trusts the fake's
// CA; its connections are closed with the server.
func (r *Running) Client() *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: r.Pool}, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64}
	r.mu.Lock()
	r.transports = append(r.transports, tr)
	r.mu.Unlock()
	return &http.Client{Transport: tr}
}

// Close stops the server at once (in-flight streams are cut) and removes the
// CA file it created.
func (r *Running) Close() error {
	var err error
	r.mu.Lock()
	for _, tr := range r.transports {
		tr.CloseIdleConnections()
	}
	r.mu.Unlock()
	if r.srv != nil {
		err = r.srv.Close()
	}
	if r.tmpDir != "" {
		os.RemoveAll(r.tmpDir)
	}
	return err
}

// makeCerts creates a CA and a leaf it signs for the loopback names, and
// writes the CA certificate to caFile.
func (r *Running) makeCerts(caFile string) (tls.Certificate, error) {
	ca, err := certgen.New(certgen.Spec{CommonName: "Airlock fake API test CA", CA: true, Validity: 7 * 24 * time.Hour}, nil)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := certgen.New(certgen.Spec{CommonName: "localhost", DNSNames: leafNames, IPs: leafIPs,
		ServerAuth: true, Validity: 7 * 24 * time.Hour}, ca)
	if err != nil {
		return tls.Certificate{}, err
	}
	r.CAPEM = ca.PEM()
	r.CAFile, r.Pool = caFile, x509.NewCertPool()
	r.Pool.AddCert(ca.Cert)
	if err := writeAtomic(caFile, r.CAPEM); err != nil {
		return tls.Certificate{}, fmt.Errorf("writing the fake CA: %w", err)
	}
	return leaf.TLS(ca), nil
}

// writeAtomic writes data so that a reader polling for the file never sees it
// empty or partial.
func writeAtomic(name string, data []byte) error {
	return atomicfile.WriteFile(name, data, 0o644)
}
