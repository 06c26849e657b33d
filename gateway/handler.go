package gateway

import (
	"context"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/apierror"
	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/policy"
	"github.com/airlock-dev/airlock/policy/credential"
	"github.com/airlock-dev/airlock/policy/mask"
)

// exchange is one request's state from arrival to audit.
type exchange struct {
	g        *Gateway
	start    time.Time
	respAt   time.Time
	rec      audit.Record
	rc       *audit.Recording // nil when the rule records metadata only
	sni      string           // normalised TLS server name: the only origin this request may reach
	in       policy.Input
	decision policy.Decision
	engine   *policy.Engine
	body     []byte // the body forwarded: the client's, or its masked form
	orig     []byte // the client's body
	maskErr  error
	cred     credential.Credential
	scope    mask.Scope  // the caller's, in the maskers' caches
	args     mask.Scoped // the masker of headers and arguments, in scope
	maskResp bool
	jsonBody bool  // the request body is a JSON object: masked and parsed
	parseErr error // why a body that must be JSON is not
	held     int64 // bytes charged to the in-flight body budget
	finished bool
}

type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

// ServeHTTP handles one intercepted API request.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ex *exchange
	defer func() {
		if p := recover(); p != nil {
			g.onPanic(w, ex, p)
		}
		g.release(ex)
	}()
	ex = g.begin(r)
	if !g.auditReady(w, ex) {
		return
	}
	if !directedAt(r, ex.sni) {
		g.misdirected(w, ex)
		return
	}
	emb := g.stripCredentials(r, ex)
	ex.rec.EmbeddedClass, ex.rec.EmbeddedFP = emb.Class, emb.Fingerprint
	body, err := g.readBody(w, r, ex)
	if err != nil {
		g.bodyError(w, ex, err)
		return
	}
	ex.rec.BytesIn = int64(len(body))
	if !g.prepare(w, ex, r, body, emb.Class) || !g.decide(w, r, ex) {
		return
	}
	g.forward(w, r, ex)
}

// begin fills what is known before the body is read.
func (g *Gateway) begin(r *http.Request) *exchange {
	ex := &exchange{g: g, start: time.Now(), engine: g.cfg.Policy()}
	o, ok := caller.FromContext(r.Context())
	if !ok {
		o = &caller.Origin{}
	}
	ex.scope = cacheScope(o.Process)
	ex.args = g.argMasker.For(ex.scope)
	proc := ex.withMaskedCmdline(o.Process)
	ex.sni = sniOf(r, o)
	ex.rec = audit.Record{Time: ex.start, RequestID: g.nextID(), Caller: proc, SNI: o.SNI,
		Method: r.Method, Path: r.URL.Path, SessionID: ex.masked(r.Header.Get("X-Claude-Code-Session-Id"))}
	if o.Dst.IsValid() {
		ex.rec.Dst = o.Dst.String()
	}
	ex.in = policy.Input{Caller: proc, Time: ex.start}
	// Rules see the path as the API resolves it; the record keeps it as sent.
	ex.in.Request = policy.Request{Method: r.Method, Path: apiPath(r.URL.Path), Betas: betas(r.Header)}
	return ex
}

func betas(h http.Header) []string {
	var out []string
	for _, v := range h.Values("Anthropic-Beta") {
		for b := range strings.SplitSeq(v, ",") {
			if b = strings.TrimSpace(b); b != "" {
				out = append(out, b)
			}
		}
	}
	return out
}

// auditReady refuses service when the audit cannot be written and the
// operator chose fail-closed.
func (g *Gateway) auditReady(w http.ResponseWriter, ex *exchange) bool {
	if g.cfg.Auditor == nil {
		return true
	}
	err := g.cfg.Auditor.Ready()
	if err == nil {
		return true
	}
	if g.cfg.AuditFailOpen {
		g.log.Error("AUDIT NOT READY: serving anyway (audit_fail_open)", zap.Error(err))
		return true
	}
	g.log.Error("AUDIT NOT READY: refusing API requests (fail closed)", zap.Error(err))
	apierror.Write(w, http.StatusServiceUnavailable, apierror.API,
		"Airlock cannot write its audit log, so it is refusing API requests; tell the administrator of this machine.",
		ex.rec.RequestID)
	return false
}
