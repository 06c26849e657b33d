package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/apierror"
	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/policy"
	"github.com/airlock-dev/airlock/policy/credential"
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
	maskResp bool
	jsonBody bool // the request body is a JSON object: masked and parsed
	finished bool
}

type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

// ServeHTTP handles one intercepted API request.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ex := g.begin(r)
	if !g.auditReady(w, ex) {
		return
	}
	if !directedAt(r, ex.sni) {
		g.misdirected(w, ex)
		return
	}
	emb := g.strip.Strip(r.Header)
	ex.rec.EmbeddedClass, ex.rec.EmbeddedFP = emb.Class, emb.Fingerprint
	body, err := readBody(r, g.cfg.MaxBody)
	if err != nil {
		g.bodyError(w, ex, err)
		return
	}
	ex.rec.BytesIn = int64(len(body))
	g.prepare(ex, r, body, emb.Class)
	if !g.decide(w, r, ex) {
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
	proc := g.withMaskedCmdline(o.Process)
	ex.sni = sniOf(r, o)
	ex.rec = audit.Record{Time: ex.start, RequestID: g.nextID(), Caller: proc, SNI: o.SNI,
		Method: r.Method, Path: r.URL.Path, SessionID: r.Header.Get("X-Claude-Code-Session-Id")}
	if o.Dst.IsValid() {
		ex.rec.Dst = o.Dst.String()
	}
	ex.in = policy.Input{Caller: proc, Time: ex.start}
	ex.in.Request = policy.Request{Method: r.Method, Path: r.URL.Path, Betas: betas(r.Header)}
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

var errTooLarge = errors.New("request body too large")

// readBody reads the whole body, at most limit bytes.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > limit {
		return nil, errTooLarge
	}
	if r.ContentLength > 0 {
		b := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, err
}

// bodyError answers a body that was too large or could not be read.
func (g *Gateway) bodyError(w http.ResponseWriter, ex *exchange, err error) {
	if errors.Is(err, errTooLarge) {
		g.answer(w, ex, "deny", http.StatusRequestEntityTooLarge, apierror.RequestTooLarge,
			"Request exceeds the maximum allowed number of bytes ("+strconv.FormatInt(g.cfg.MaxBody, 10)+") for Airlock.")
		return
	}
	g.log.Debug("reading request body", zap.String("request_id", ex.rec.RequestID), zap.Error(err))
	g.answer(w, ex, "error", http.StatusBadRequest, apierror.InvalidRequest, "Airlock could not read the request body: "+err.Error())
}
