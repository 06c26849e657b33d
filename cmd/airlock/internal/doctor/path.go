package doctor

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// pathProbe sends one request to the API host the way an application would
// (dialling HOST:443, which capture redirects) but trusting only Airlock's CA:
// a completed handshake proves the connection was intercepted, an answer with
// upstream's request-id proves the daemon reached the API.
type pathProbe struct {
	host    string
	connect string // HOST:PORT to dial instead of host:443
	roots   *x509.CertPool
}

// pathResult is what the probe saw.
type pathResult struct {
	Status    int
	RequestID string
	ErrorType string
}

func (p pathProbe) run(ctx context.Context) (pathResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	addr := p.connect
	if addr == "" {
		addr = net.JoinHostPort(p.host, "443")
	}
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: p.roots, ServerName: p.host, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2: true,
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+p.host+"/v1/models", nil)
	if err != nil {
		return pathResult{}, err
	}
	req.Header.Set("anthropic-version", "2023-06-01")
	req.Header.Set("User-Agent", "airlock-doctor")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return pathResult{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return pathResult{Status: resp.StatusCode, RequestID: resp.Header.Get("request-id"), ErrorType: apiErrorType(body)}, nil
}

// apiErrorType extracts error.type from an API error body, if it is one.
func apiErrorType(body []byte) string {
	s := string(body)
	i := strings.Index(s, `"error":{"type":"`)
	if i < 0 {
		return ""
	}
	s = s[i+len(`"error":{"type":"`):]
	if j := strings.IndexByte(s, '"'); j >= 0 {
		return s[:j]
	}
	return ""
}

// verdict turns a probe outcome into a doctor check.
func (r pathResult) verdict(host string, err error) Check {
	c := Check{Name: host}
	var unknown x509.UnknownAuthorityError
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknown) || errors.As(err, &certErr):
		c.Result, c.Detail = Fail, "the certificate is not Airlock's: the connection was not intercepted"
		c.Fix = "check 'airlock status' (attached? targets?) and that " + host + " resolves into capture.targets or capture.hosts"
	case err != nil:
		c.Result, c.Detail = Fail, err.Error()
		c.Fix = "start airlockd and check 'airlock status'; a refused connection with the daemon down is fail-closed working as designed"
	case r.ErrorType == "authentication_error":
		c.Result, c.Detail = Fail, "upstream rejected the managed credential (401)"
		c.Fix = "put a valid key where credentials[0] points, then 'systemctl reload airlockd'"
	case r.Status == http.StatusBadGateway || r.Status == http.StatusServiceUnavailable || r.Status == http.StatusGatewayTimeout:
		c.Result, c.Detail = Fail, fmt.Sprintf("intercepted, but the daemon could not reach upstream (%d %s)", r.Status, r.ErrorType)
		c.Fix = "check DNS, egress (upstream.proxy) and 'journalctl -u airlockd'"
	case r.Status == http.StatusForbidden:
		c.Result, c.Detail = Warn, "intercepted; policy denied the probe (GET /v1/models), so upstream was not tried"
		c.Fix = "allow GET /v1/models for root in the policy to let doctor test the whole path"
	default:
		c.Result, c.Detail = OK, fmt.Sprintf("intercepted by Airlock, upstream answered %d (request-id %s)", r.Status, cmp.Or(r.RequestID, "none"))
	}
	return c
}

func (d *env) upstream(ctx context.Context) []Check {
	if d.cfg == nil {
		return needConfig("path")
	}
	ca, err := d.loadCA()
	if err != nil {
		return []Check{{Name: "path", Result: Skip, Detail: "no CA (see ca)"}}
	}
	c, _ := ProbePath(ctx, d.cfg.Capture.APIHosts[0], d.opts.Connect, ca.CertPEM())
	return []Check{c}
}

// ProbePath runs the probe (doctor's upstream check, install's self-test) and returns its verdict, and an error when it failed.
func ProbePath(ctx context.Context, host, connect string, caPEM []byte) (Check, error) {
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	r, err := pathProbe{host: host, connect: connect, roots: roots}.run(ctx)
	c := r.verdict(host, err)
	if c.Result == Fail {
		return c, errors.New(c.Detail + " (" + c.Fix + ")")
	}
	return c, nil
}
