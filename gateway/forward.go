package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/apierror"
)

// forward sends an allowed request upstream through the reverse proxy.
func (g *Gateway) forward(w http.ResponseWriter, r *http.Request, ex *exchange) {
	ex.rec.Decision = "allow"
	if ex.jsonBody && ex.messages() {
		ex.rec.ToolResults = toolResultsOf(ex.body) // as forwarded: masked
	}
	ctx := context.WithValue(r.Context(), exchangeKey{}, ex)
	// The response pipeline finishes the exchange; this covers a proxy that
	// never reached it or unwound past it (a no-op when it did).
	defer g.finish(ex)
	g.proxy.ServeHTTP(w, r.WithContext(ctx))
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
	if ex.messages() {
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

// upstreamError answers a failed round trip (upstream unreachable, TLS
// failure) with a 502 in the API's shape.
func (g *Gateway) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	ex := exchangeFrom(r.Context())
	if ex.finished {
		return
	}
	var unread *unreadableError
	if errors.As(err, &unread) {
		g.log.Warn("API answer refused: Airlock cannot read it", zap.String("request_id", ex.rec.RequestID), zap.Error(err))
		msg := "airlock: " + unread.why + "; the answer was not passed on"
		ex.rec.Reason = msg // the policy's reason said why it was allowed
		g.answer(w, ex, "error", statusCut, apierror.API, msg)
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
