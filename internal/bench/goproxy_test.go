package bench

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/internal/fakeapi"
)

// TestGoProxySwapsTheCredential: the reference configuration does the job
// it stands for, a streamed answer included, so its figures compare with
// Airlock's: the fake API, which accepts only the managed key, answers a
// client that sent the embedded one, over HTTP/2.
func TestGoProxySwapsTheCredential(t *testing.T) {
	dir := t.TempDir()
	api, err := fakeapi.StartTLSAt(fakeapi.Config{APIKeys: []string{ManagedKey}}, "127.0.0.1:0", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	peerCA, certFile, keyFile, err := PeerCerts(dir)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := GoProxy(l, cert, api.Addr, filepath.Join(dir, "fakeapi-ca.pem"), ManagedKey)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	roots, err := LoadRoots(peerCA)
	if err != nil {
		t.Fatal(err)
	}
	target := Target{Name: GoProxyTarget, Addr: l.Addr().String(), Key: EmbeddedKey, Roots: roots}
	tr := target.transport(true, 1)
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	load := Load{Stream: true, Header: StreamHeader(20, 20)}
	s, err := load.once(ctx, &http.Client{Transport: tr}, target, StreamBody)
	if err != nil {
		t.Fatal(err)
	}
	if s.events != 20 {
		t.Errorf("the stream carried %d text deltas, want 20", s.events)
	}
	reqs := api.Requests()
	if len(reqs) != 1 {
		t.Fatalf("the fake API saw %d requests, want 1", len(reqs))
	}
	if got := reqs[0].Header.Get("X-Api-Key"); got != ManagedKey {
		t.Errorf("upstream x-api-key = %q, want the managed key", got)
	}
	if reqs[0].Proto != "HTTP/2.0" {
		t.Errorf("upstream protocol = %s, want HTTP/2.0 (as Airlock's)", reqs[0].Proto)
	}
}
