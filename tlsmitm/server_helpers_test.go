package tlsmitm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/internal/testutil"
)

// testServer is a Server behind a real loopback listener whose accept loop
// calls ServeAPI, the way the capture listener does.
type testServer struct {
	*Server
	ca    *Authority
	addr  string
	port  string
	logs  *observer.ObservedLogs
	roots *x509.CertPool
}

func startServer(tb testing.TB, handler http.Handler, tweak func(*ServerConfig)) *testServer {
	tb.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	ca := newTestCA(tb)
	cfg := ServerConfig{Authority: ca, Handler: handler, Log: zap.New(core)}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); acceptLoop(ctx, ln, srv, &wg) }()
	tb.Cleanup(func() {
		ln.Close()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
		cancel()
		wg.Wait()
	})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return &testServer{Server: srv, ca: ca, addr: ln.Addr().String(), port: port, logs: logs, roots: caPool(tb, ca)}
}

func acceptLoop(ctx context.Context, ln net.Listener, srv *Server, wg *sync.WaitGroup) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		peer, _ := netip.ParseAddrPort(conn.RemoteAddr().String())
		origin := &caller.Origin{ConnID: "c-" + peer.String(), Peer: peer, SNI: testHost,
			Process: caller.Process{PID: 4242, Comm: "test-client", Exe: "/usr/bin/test-client"}}
		wg.Add(1)
		go func() { defer wg.Done(); srv.ServeAPI(ctx, conn, origin) }()
	}
}

// client returns an HTTP client that dials the test server for any address
// and trusts only the Airlock CA.
func (s *testServer) client(h2 bool) *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, s.addr)
		},
		TLSClientConfig:   &tls.Config{RootCAs: s.roots},
		ForceAttemptHTTP2: h2,
	}
	if !h2 {
		tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// originEcho answers with the process name from the request's Origin.
func originEcho() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, ok := caller.FromContext(r.Context())
		if !ok {
			http.Error(w, "no origin", 500)
			return
		}
		io.WriteString(w, r.Proto+" "+o.Process.Comm)
	})
}

// waitLog waits (bounded) for a log entry with the given reason.
func (s *testServer) waitLog(tb testing.TB, reason string) observer.LoggedEntry {
	tb.Helper()
	var found []observer.LoggedEntry
	testutil.Eventually(tb, 10*time.Second, "a log line with reason "+reason, func() bool {
		found = s.logs.FilterField(zap.String("reason", reason)).All()
		return len(found) > 0
	})
	return found[0]
}
