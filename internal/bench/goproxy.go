package bench

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
)

// GoProxyTarget is the reference configuration for Go's own HTTP stack: the
// least a Go program can do for the same job (TLS in front, the credential
// swapped, an HTTP/2 upstream). Airlock's gateway is built on the same
// net/http pieces, so what Airlock adds over this is its own work (capture,
// policy, masking, audit), and what this adds over direct is the floor Go's
// HTTP stack sets on this machine.
const GoProxyTarget = "go-proxy"

const goProxyLabel = "Go's `httputil.ReverseProxy` alone (TLS in front, the credential header replaced, HTTP/2 upstream, " +
	"each write flushed), on the Go and net/http Airlock is built on: for reference, the floor that stack sets"

// GoProxy serves l as the reference proxy: every request goes to upstream
// (whose certificate upstreamCA signs) with its credentials replaced by key.
func GoProxy(l net.Listener, cert tls.Certificate, upstream, upstreamCA, key string) (*http.Server, error) {
	roots, err := LoadRoots(upstreamCA)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: roots, ServerName: APIHost},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 512,
		DisableCompression:  true,
	}
	target := &url.URL{Scheme: "https", Host: upstream}
	proxy := &httputil.ReverseProxy{Transport: tr, FlushInterval: -1, Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = APIHost
		pr.Out.Header.Del("Authorization")
		pr.Out.Header.Set("X-Api-Key", key)
	}}
	srv := &http.Server{Handler: proxy, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go srv.ServeTLS(l, "", "")
	return srv, nil
}

// StartGoProxy runs the reference proxy in its own process (the benchmark
// binary's serve-go-proxy), as the peers run in theirs.
func StartGoProxy(env PeerEnv, listen string) (*Proc, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	argv := []string{self, "serve-go-proxy", "-listen", listen, "-upstream", env.Upstream, "-upstream-ca", env.UpstreamCA,
		"-cert", env.LeafCert, "-cert-key", env.LeafKey, "-key", env.ManagedKey}
	p, err := StartProc(env.Dir, GoProxyTarget, nil, argv...)
	return p, strings.Join(argv, " "), err
}
