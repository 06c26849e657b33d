// Package bench measures Airlock side by side with a direct connection and the
// tools a person would use instead (nginx, mitmproxy), against the fake Claude
// API on loopback, and writes BENCHMARKS.md. `make bench` runs the full suite;
// the smoke mode (direct and an in-process Airlock, a few seconds) runs in
// `make test` so the harness cannot rot.
package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"time"
)

// APIHost is the name every client asks for (SNI and Host), whatever it dials.
const APIHost = "api.anthropic.com"

// Target is how the load generator reaches one configuration.
type Target struct {
	Name       string         // short id: direct, airlock, nginx, ...
	Label      string         // the report's description
	Addr       string         // host:port dialled
	ServerName string         // SNI and Host header; APIHost when empty
	Roots      *x509.CertPool // the CA the client trusts for this target
	Key        string         // the credential the client sends as x-api-key
	HTTP2      bool           // negotiate h2 (else HTTP/1.1 only)
	PIDs       func() []int   // processes whose memory is this configuration's cost (nil: none)
	// Enter runs before each measurement and its result after (the capture
	// targets move the load generator into the captured cgroup and back).
	Enter func() (leave func(), err error)
	// Dial, when set, opens the connection to Addr instead of a plain dial
	// (the container target creates its sockets in a network namespace of
	// its own). Scenarios driven by another program skip such targets.
	Dial func(ctx context.Context) (net.Conn, error)
}

func (t Target) serverName() string {
	if t.ServerName != "" {
		return t.ServerName
	}
	return APIHost
}

// transport builds a client transport for t: keepAlive false opens a new
// connection (a full TLS handshake, no session resumption) per request.
func (t Target) transport(keepAlive bool, conns int) *http.Transport {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			if t.Dial != nil {
				return t.Dial(ctx)
			}
			return dialer.DialContext(ctx, network, t.Addr)
		},
		TLSClientConfig:     &tls.Config{ServerName: t.serverName(), RootCAs: t.Roots},
		DisableKeepAlives:   !keepAlive,
		MaxIdleConnsPerHost: conns,
		MaxIdleConns:        conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		ForceAttemptHTTP2:   t.HTTP2,
	}
	if !t.HTTP2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	}
	return tr
}

// LoadRoots reads a PEM bundle into a pool.
func LoadRoots(files ...string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	for _, f := range files {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		pool.AppendCertsFromPEM(pem)
	}
	return pool, nil
}
