package tlsmitm

import (
	"net/http"
	"net/http/httputil"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/apierror"
)

// ForwardHandler forwards every request unchanged to https://<Host> over
// transport, streaming responses as they arrive: the tests' stand-in for the
// gateway (production code has the gateway itself).
// An upstream failure (including a certificate that does not verify) reaches
// the client as an API-shaped 502 api_error, never as an insecure retry.
func ForwardHandler(transport http.RoundTripper) http.Handler {
	return ForwardHandlerWithLog(transport, nil)
}

// ForwardHandlerWithLog is ForwardHandler logging upstream failures to log.
func ForwardHandlerWithLog(transport http.RoundTripper, log *zap.Logger) http.Handler {
	if log == nil {
		log = zap.NewNop()
	}
	log = log.Named("forward")
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "https"
			pr.Out.URL.Host = pr.In.Host
			pr.Out.Host = pr.In.Host
		},
		Transport: transport,
		// 0, not -1: ReverseProxy already flushes every write of an SSE or
		// unknown-length (streamed) response; -1 would also flush each write
		// of a known-length JSON answer and, through an immediate timer, its
		// headers apart from its body: one more TLS record and syscall each.
		FlushInterval: 0,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.Warn("upstream request failed", zap.String("host", r.Host), zap.String("path", r.URL.Path), zap.Error(err))
			apierror.Write(w, http.StatusBadGateway, apierror.API, "airlock could not reach the API upstream: "+err.Error(), "")
		},
	}
}
