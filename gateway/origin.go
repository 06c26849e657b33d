package gateway

import (
	"net"
	"net/http"
	"strings"

	"github.com/airlock-dev/airlock/apierror"
	"github.com/airlock-dev/airlock/caller"
)

// The API origin of a request is fixed by the TLS server name the client
// asked for, which the intercept layer checked against the configured API
// hosts before a certificate was minted for it. Nothing inside the HTTP
// request (Host, :authority, an absolute-form URI) may move it: a captured
// process that could would make the daemon send the managed credential to a
// host of its choosing.

const (
	misdirectedReason = "misdirected request: the Host, :authority or request URI does not name the TLS server name"
	httpsPort         = "443"
)

// sniOf returns the normalised server name of the connection that carried r:
// the one the intercept layer peeked, else the one TLS negotiated.
func sniOf(r *http.Request, o *caller.Origin) string {
	if o != nil && o.SNI != "" {
		return normalizeHost(o.SNI)
	}
	if r.TLS != nil {
		return normalizeHost(r.TLS.ServerName)
	}
	return ""
}

// directedAt reports whether every name the request gives for its target
// agrees with sni: r.Host (Host or :authority; HTTP/1.0 may leave it empty),
// any Host header net/http left in the map (h2 keeps one sent beside
// :authority), and the host of an absolute-form URI. A request without an SNI
// has no origin and is refused.
func directedAt(r *http.Request, sni string) bool {
	if sni == "" || (r.Host != "" && normalizeHost(r.Host) != sni) {
		return false
	}
	for _, h := range r.Header.Values("Host") {
		if normalizeHost(h) != sni {
			return false
		}
	}
	u := r.URL
	if u == nil || (u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == "") {
		return true // origin-form: the usual case
	}
	// Userinfo or an opaque form is never what an API client sends, and a
	// classic way to smuggle a second host name past a parser.
	return u.User == nil && u.Opaque == "" && normalizeHost(u.Host) == sni
}

// normalizeHost lower-cases h, drops a trailing dot and the default https
// port. Any other port stays, so it never matches a server name.
func normalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if host, port, err := net.SplitHostPort(h); err == nil && port == httpsPort {
		h = host
	}
	return strings.TrimSuffix(h, ".")
}

// misdirected answers 421, which tells a client its request reached a server
// that does not serve the named host; the name itself is not echoed into the
// audit (a hostile client may put anything there).
func (g *Gateway) misdirected(w http.ResponseWriter, ex *exchange) {
	ex.rec.Reason = misdirectedReason
	msg := "Airlock intercepted a connection for " + orUnknown(ex.sni) + " but the request names another host " +
		"(Host header, :authority or absolute URI); send requests for " + orUnknown(ex.sni) + " on its own connection."
	g.answer(w, ex, "deny", http.StatusMisdirectedRequest, apierror.InvalidRequest, msg)
}

func orUnknown(sni string) string {
	if sni == "" {
		return "an unknown host (no TLS server name)"
	}
	return sni
}
