package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/apierror"
)

// forward sends an allowed request upstream through the reverse proxy.
func (g *Gateway) forward(w http.ResponseWriter, r *http.Request, ex *exchange) {
	ex.rec.Decision = "allow"
	ctx := context.WithValue(r.Context(), exchangeKey{}, ex)
	g.proxy.ServeHTTP(w, r.WithContext(ctx))
	if !ex.finished { // the client went away before the body was read to the end
		g.finish(ex)
	}
}

// rewrite builds the outbound request to the API origin of the connection's
// SNI (or the configured upstream): same method, path, query and headers
// (minus the client's credentials, already stripped), the body as decided,
// and the managed credential.
func (g *Gateway) rewrite(pr *httputil.ProxyRequest) {
	ex := exchangeFrom(pr.In.Context())
	target := g.cfg.Upstream
	if target == nil {
		// The SNI, never the client's Host: directedAt has checked they agree.
		target = &url.URL{Scheme: "https", Host: ex.sni}
	}
	pr.SetURL(target)                      // Out.Host = "": the target's host is sent
	pr.Out.Header["X-Forwarded-For"] = nil // never announce the client; the header is omitted
	setBody(pr.Out, ex.body)
	ex.cred.Apply(pr.Out.Header)
	if isMessages(pr.In.URL.Path) {
		// Masking and token accounting read the response: ask for it uncompressed.
		pr.Out.Header.Set("Accept-Encoding", "identity")
	}
}

// setBody gives the outbound request the decided body, no trailers, and no
// way to be sent twice. Go's transports replay a request on some connection
// errors when they can rewind its body or it has none; a replay after the
// upstream saw the request would bypass every count and the audit (an h2
// RST_STREAM once turned one client request into thousands of POSTs). So
// GetBody stays nil, and a bodiless request whose method is not safe to
// repeat carries an empty body that cannot be rewound either.
func setBody(out *http.Request, body []byte) {
	out.Trailer, out.GetBody = nil, nil
	out.Header.Del("Trailer")
	if len(body) == 0 && safeMethod(out.Method) {
		out.Body, out.ContentLength = http.NoBody, 0
		return
	}
	out.ContentLength = int64(len(body))
	// io.NopCloser of a *bytes.Reader: the transport recognises it and
	// writes the bytes directly (a custom type costs a sendfile probe).
	out.Body = io.NopCloser(bytes.NewReader(body))
}

// safeMethod: a repeat changes nothing upstream, so Go may retry it.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

// bodyReader is a response body over bytes: one allocation where
// io.NopCloser(bytes.NewReader(b)) takes two.
type bodyReader struct{ bytes.Reader }

func newBodyReader(b []byte) *bodyReader {
	r := &bodyReader{}
	r.Reset(b)
	return r
}

func (*bodyReader) Close() error { return nil }

// modifyResponse notes the upstream status and wraps the body in the reader
// that masks, records and audits it.
func (g *Gateway) modifyResponse(resp *http.Response) error {
	ex := exchangeFrom(resp.Request.Context())
	ex.respAt = time.Now()
	ex.rec.TTFB = ex.respAt.Sub(ex.start)
	ex.rec.Status = resp.StatusCode
	ex.rec.UpstreamID = resp.Header.Get("Request-Id")
	scrubHeader(resp.Header, ex.secret())
	ct := resp.Header.Get("Content-Type")
	if ex.rc != nil {
		ex.rc.Status, ex.rc.ContentType = resp.StatusCode, ct
	}
	inspectable := resp.Header.Get("Content-Encoding") == ""
	switch {
	case inspectable && strings.HasPrefix(ct, "text/event-stream"):
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		resp.Body = newSSEBody(ex, resp.Body)
	case inspectable && strings.HasPrefix(ct, "application/json") && resp.ContentLength <= g.cfg.MaxBody &&
		(isMessages(resp.Request.URL.Path) || resp.StatusCode >= 400):
		// Messages answers and API errors are small: mask and audit them whole.
		return g.bufferJSON(ex, resp)
	default:
		resp.Body = &passBody{ex: ex, src: resp.Body}
	}
	return nil
}

// upstreamError answers a failed round trip (upstream unreachable, TLS
// failure) with a 502 in the API's shape.
func (g *Gateway) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	ex := exchangeFrom(r.Context())
	if ex.finished {
		return
	}
	g.log.Warn("upstream request failed", zap.String("request_id", ex.rec.RequestID), zap.Error(err))
	if r.Context().Err() != nil {
		ex.rec.Decision = "error"
		ex.rec.Status = 499 // client closed the request
		g.finish(ex)
		return
	}
	g.answer(w, ex, "error", http.StatusBadGateway, apierror.API,
		"Airlock could not reach the Claude API: "+scrubString(err.Error(), ex.secret()))
}

func (ex *exchange) secret() string { return ex.cred.Secret.Reveal() }

// scrubHeader removes the managed value from upstream headers, in case an
// upstream error echoed it.
func scrubHeader(h http.Header, secret string) {
	if secret == "" {
		return
	}
	for _, vs := range h {
		for i, v := range vs {
			if strings.Contains(v, secret) {
				vs[i] = strings.ReplaceAll(v, secret, redacted)
			}
		}
	}
}

const redacted = "[redacted]"

// containsString is bytes.Contains(b, []byte(s)) without converting s (a
// credential is longer than the 32 bytes a conversion may keep on the stack).
func containsString(b []byte, s string) bool {
	for i := 0; len(b)-i >= len(s); i++ {
		j := bytes.IndexByte(b[i:], s[0])
		if j < 0 {
			return false
		}
		i += j
		if len(b)-i >= len(s) && string(b[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}

func scrubString(s, secret string) string {
	if secret == "" || !strings.Contains(s, secret) {
		return s
	}
	return strings.ReplaceAll(s, secret, redacted)
}

func scrubBytes(b []byte, secret string) []byte {
	if secret == "" || !containsString(b, secret) {
		return b
	}
	return bytes.ReplaceAll(b, []byte(secret), []byte(redacted))
}
