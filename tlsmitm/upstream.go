package tlsmitm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// UpstreamConfig configures the verified transport to the real API.
type UpstreamConfig struct {
	// ExtraCAFile adds PEM roots to the system roots (tests, corporate proxies).
	ExtraCAFile string
	// Override is a "host:port" every API dial goes to instead of the request's
	// host; SNI and certificate verification stay the original host name.
	Override string
	// ProxyURL sends traffic through an egress HTTP(S) proxy with CONNECT.
	ProxyURL string
	// Dial opens every upstream socket; the daemon passes
	// intercept.MarkedDialer(mark).DialContext so each carries SO_MARK.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Protocol is the upstream HTTP version: ProtocolH2 (the default when
	// empty) or ProtocolHTTP1 (HTTP/1.1 keep-alive pool only).
	Protocol string
}

// Upstream protocols for UpstreamConfig.Protocol.
const (
	ProtocolH2    = "h2"
	ProtocolHTTP1 = "http1"
)

// NewUpstream returns the shared upstream transport: HTTP/2 (or HTTP/1.1
// with Protocol ProtocolHTTP1) with pooled keep-alive connections, verified against the system roots (plus
// ExtraCAFile). It never skips verification.
func NewUpstream(cfg UpstreamConfig) (*http.Transport, error) {
	roots, err := upstreamRoots(cfg.ExtraCAFile)
	if err != nil {
		return nil, err
	}
	proxy, err := proxyFunc(cfg.ProxyURL)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:       proxy,
		DialContext: overrideDial(cfg),
		// The session cache lets new pooled connections resume (an
		// abbreviated handshake); the chain was verified on the first one.
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12,
			ClientSessionCache: tls.NewLRUClientSessionCache(0)},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	if err := applyProtocol(tr, cfg.Protocol); err != nil {
		return nil, err
	}
	return tr, nil
}

// applyProtocol restricts tr to HTTP/1.1 for ProtocolHTTP1. HTTP/1.1 sends a
// small request in one write (Go's h2 client flushes HEADERS apart from DATA)
// and spreads requests over connections instead of one h2 connection's
// single read loop: measured faster on loopback (see BenchmarkForward).
func applyProtocol(tr *http.Transport, protocol string) error {
	switch protocol {
	case "", ProtocolH2:
		return nil
	case ProtocolHTTP1:
		tr.ForceAttemptHTTP2 = false
		tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // non-nil: no h2
		// One connection per in-flight request: keep as many idle as the
		// pool holds, so a burst does not end in closes and new handshakes.
		tr.MaxIdleConnsPerHost = tr.MaxIdleConns
		return nil
	}
	return fmt.Errorf("upstream protocol %q: want %q or %q", protocol, ProtocolH2, ProtocolHTTP1)
}

func upstreamRoots(extraFile string) (*x509.CertPool, error) {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if extraFile == "" {
		return roots, nil
	}
	pem, err := os.ReadFile(extraFile)
	if err != nil {
		return nil, fmt.Errorf("reading upstream extra ca file: %w", err)
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("upstream extra ca file %s holds no PEM certificate", extraFile)
	}
	return roots, nil
}

func proxyFunc(raw string) (func(*http.Request) (*url.URL, error), error) {
	if raw == "" {
		return nil, nil // never take HTTPS_PROXY from the daemon's environment implicitly
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("upstream proxy url %q: want http(s)://host:port", raw)
	}
	return http.ProxyURL(u), nil
}

// overrideDial sends API dials to cfg.Override (dials to the proxy are left
// alone: with a proxy the override applies to the CONNECT target instead).
func overrideDial(cfg UpstreamConfig) func(ctx context.Context, network, addr string) (net.Conn, error) {
	dial := cfg.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	if cfg.Override == "" || cfg.ProxyURL != "" {
		return dial
	}
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dial(ctx, network, cfg.Override)
	}
}
