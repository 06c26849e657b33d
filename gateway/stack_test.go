package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/tlsmitm"
)

// stack is the gateway as the daemon runs it: behind the real TLS server
// (HTTP/1.1 and h2), forwarding with Config.Upstream unset through the real
// upstream transport, whose every dial is recorded and then connected to a
// recording fake API that holds a certificate for apiHost.
type stack struct {
	*env
	ca    *tlsmitm.Authority
	srv   *tlsmitm.Server
	addr  string // the listener clients dial, as capture would redirect them
	mu    sync.Mutex
	dials []string // every address the upstream transport was asked to reach
	to    string   // where those dials really go
}

func newStack(t testing.TB, policySrc string, h http.HandlerFunc, protocol string, opts ...envOpt) *stack {
	t.Helper()
	s := &stack{}
	var err error
	if s.ca, err = tlsmitm.LoadOrCreateCA(tlsmitm.CAConfig{Dir: filepath.Join(t.TempDir(), "ca"), Hosts: []string{apiHost}}, nil); err != nil {
		t.Fatal(err)
	}
	up := s.startUpstream(t, h)
	s.to = up.srv.Listener.Addr().String()
	transport, err := tlsmitm.NewUpstream(tlsmitm.UpstreamConfig{ExtraCAFile: s.caFile(t), Protocol: protocol,
		Dial: s.recordingDial})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(transport.CloseIdleConnections)
	opts = append(opts, func(c *Config, _ *credentialConfig) { c.Upstream, c.Transport = nil, transport })
	s.env = newEnvOn(t, policySrc, up, opts...)
	s.serve(t)
	return s
}

// startUpstream serves the fake API over TLS (h2 and HTTP/1.1) with a leaf
// for apiHost, so the upstream transport verifies it as it would the API.
func (s *stack) startUpstream(t testing.TB, h http.HandlerFunc) *upstream {
	t.Helper()
	leaf, err := s.ca.IssueLeaf(apiHost)
	if err != nil {
		t.Fatal(err)
	}
	up := newUnstartedUpstream(t, h)
	up.srv.EnableHTTP2 = true
	up.srv.TLS = &tls.Config{Certificates: []tls.Certificate{*leaf}}
	up.srv.StartTLS()
	return up
}

func (s *stack) caFile(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, s.ca.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (s *stack) recordingDial(ctx context.Context, network, addr string) (net.Conn, error) {
	s.mu.Lock()
	s.dials = append(s.dials, addr)
	to := s.to
	s.mu.Unlock()
	var d net.Dialer
	return d.DialContext(ctx, network, to)
}

// redirect sends later upstream dials to addr (another fake upstream).
func (s *stack) redirect(addr string) {
	s.mu.Lock()
	s.to = addr
	s.mu.Unlock()
}

// dialed returns the addresses the upstream transport was asked for.
func (s *stack) dialed() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.dials...)
}

// serve hands every accepted connection to the TLS server as capture does,
// with the SNI the intercept layer would have peeked.
func (s *stack) serve(t testing.TB) {
	t.Helper()
	var err error
	if s.srv, err = tlsmitm.NewServer(tlsmitm.ServerConfig{Authority: s.ca, Hosts: []string{apiHost}, Handler: s.gw}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.srv.ServeAPI(ctx, conn, &caller.Origin{SNI: apiHost, Accepted: time.Now()})
		}
	}()
	t.Cleanup(func() { ln.Close(); cancel(); s.srv.Close() })
}

// clientTLS is what an application that trusts the Airlock CA uses.
func (s *stack) clientTLS(protos ...string) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(s.ca.Certificate())
	return &tls.Config{ServerName: apiHost, RootCAs: pool, NextProtos: protos}
}

// client speaks "h2" or "http1" to the stack, whatever the URL's host.
func (s *stack) client(t testing.TB, proto string) *http.Client {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: s.clientTLS(), Protocols: new(http.Protocols),
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, s.addr)
		}}
	if proto == "h2" {
		tr.Protocols.SetHTTP2(true)
	} else {
		tr.Protocols.SetHTTP1(true)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

// raw opens a TLS connection to the stack for hand-written requests.
func (s *stack) raw(t testing.TB, proto string) *tls.Conn {
	t.Helper()
	c, err := tls.Dial("tcp", s.addr, s.clientTLS(proto))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
