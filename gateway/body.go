package gateway

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/apierror"
	"github.com/airlock-dev/airlock/policy"
)

var (
	errTooLarge = errors.New("request body too large")
	errBusy     = errors.New("request bodies in flight are at the gateway's limit")
)

// firstBodyBuf is the buffer a body starts in, whatever Content-Length
// claims: memory follows the bytes that arrive, not the bytes announced
// (16 requests announcing 32 MiB and sending one byte once took 600 MB).
const firstBodyBuf = 16 << 10

// bodyBudget bounds the bytes of request bodies held at once.
type bodyBudget struct {
	limit int64
	used  atomic.Int64
}

func (b *bodyBudget) take(n int64) bool {
	if b.used.Add(n) > b.limit {
		b.used.Add(-n)
		return false
	}
	return true
}

// readBody reads the whole body, at most MaxBody bytes, before
// BodyTimeout. Its buffer grows as bytes arrive, and every byte of it is
// charged to the in-flight budget until the exchange ends (ex.held).
func (g *Gateway) readBody(w http.ResponseWriter, r *http.Request, ex *exchange) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > g.cfg.MaxBody {
		return nil, errTooLarge
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(g.cfg.BodyTimeout)) // unsupported only in in-process tests
	buf, err := g.readAll(r, ex)
	if err != nil {
		// Keep the deadline: net/http drains an unread body before it
		// answers, and must not wait for a client that stopped sending.
		w.Header().Set("Connection", "close")
		return nil, err
	}
	_ = rc.SetReadDeadline(time.Time{}) // a stream's answer may take much longer
	return buf, nil
}

func (g *Gateway) readAll(r *http.Request, ex *exchange) ([]byte, error) {
	var buf []byte
	for {
		if len(buf) == cap(buf) {
			var err error
			if buf, err = g.grow(ex, buf, r.ContentLength); err != nil {
				return nil, err
			}
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case int64(len(buf)) > g.cfg.MaxBody:
			return nil, errTooLarge
		case err == io.EOF:
			return buf, nil
		case err != nil:
			return nil, err
		}
	}
}

// grow doubles buf (to at most one byte past the declared or allowed
// length, which is how an oversized body shows) within the budget.
func (g *Gateway) grow(ex *exchange, buf []byte, declared int64) ([]byte, error) {
	limit := g.cfg.MaxBody + 1
	if declared >= 0 {
		limit = min(limit, declared+1)
	}
	size := min(max(2*int64(cap(buf)), firstBodyBuf), max(limit, int64(cap(buf))+1))
	extra := size - int64(cap(buf))
	if !g.held.take(extra) {
		return nil, errBusy
	}
	ex.held += extra
	nb := make([]byte, len(buf), size)
	copy(nb, buf)
	return nb, nil
}

// release gives back the exchange's share of the in-flight budget.
func (g *Gateway) release(ex *exchange) {
	if ex != nil && ex.held > 0 {
		g.held.used.Add(-ex.held)
		ex.held = 0
	}
}

// bodyError answers a body that was too large, too slow, over the
// in-flight budget, or could not be read.
func (g *Gateway) bodyError(w http.ResponseWriter, ex *exchange, err error) {
	switch {
	case errors.Is(err, errTooLarge):
		g.answer(w, ex, "deny", http.StatusRequestEntityTooLarge, apierror.RequestTooLarge,
			"Request exceeds the maximum allowed number of bytes ("+strconv.FormatInt(g.cfg.MaxBody, 10)+") for Airlock.")
	case errors.Is(err, errBusy):
		w.Header().Set("Retry-After", "1")
		g.answer(w, ex, "error", http.StatusServiceUnavailable, apierror.Overloaded,
			"Airlock is holding as many request bodies as it may ("+strconv.FormatInt(g.cfg.MaxInFlight, 10)+" bytes); retry shortly.")
	case errors.Is(err, os.ErrDeadlineExceeded):
		g.answer(w, ex, "error", http.StatusRequestTimeout, apierror.InvalidRequest,
			"Airlock stopped waiting for the request body after "+g.cfg.BodyTimeout.String()+".")
	default:
		g.log.Debug("reading request body", zap.String("request_id", ex.rec.RequestID), zap.Error(err))
		g.answer(w, ex, "error", http.StatusBadRequest, apierror.InvalidRequest, "Airlock could not read the request body: "+err.Error())
	}
}

// prepare parses the fields rules read and runs the first masking pass,
// whose counts become the rules' `findings`. It refuses (and answers) a
// body nested too deep or with a repeated key; false means it answered.
func (g *Gateway) prepare(w http.ResponseWriter, ex *exchange, r *http.Request, body []byte, embedded string) bool {
	ex.in.Embedded = embedded
	ex.body, ex.orig = body, body
	q := &ex.in.Request
	if !mustBeJSON(ex.in.Request.Path, r.Header.Get("Content-Type")) { // multipart uploads and the like: no body fields to read
		q.BodySize, q.BodyParsed = int64(len(body)), true
		return true
	}
	ex.parseErr = policy.ParseBody(body, q)
	ex.rec.Model, ex.rec.Stream = q.Model, q.Stream
	if errors.Is(ex.parseErr, policy.ErrJSONTooDeep) || errors.Is(ex.parseErr, policy.ErrDuplicateKey) {
		g.answer(w, ex, "deny", http.StatusBadRequest, apierror.InvalidRequest,
			"Airlock refused this request body: "+ex.parseErr.Error()+".")
		return false
	}
	ex.jsonBody = ex.parseErr == nil && len(body) > 0
	if g.cfg.Masker != nil && ex.jsonBody {
		g.maskRequest(ex)
	}
	return true
}

func (g *Gateway) maskRequest(ex *exchange) {
	masked, res, err := g.cfg.Masker.For(ex.scope).Request(ex.orig, nil)
	if err != nil {
		ex.maskErr = err
		return
	}
	ex.in.Findings = res.Counts
	ex.body = masked
	ex.rec.Masked, ex.rec.MaskIncomplete = res.Counts, res.Incomplete
}

// unexaminable reports a body that must be JSON, is not, and would have
// been masked under the decision: it is refused rather than sent unmasked.
// (Rules and caps that read body fields refuse it in the policy itself.)
func (g *Gateway) unexaminable(ex *exchange) bool {
	m := ex.decision.Mask.Request
	return ex.parseErr != nil && g.cfg.Masker != nil && (m == nil || len(m) > 0) && ex.decision.Action != policy.Deny
}

// mustBeJSON reports whether a body is read as JSON: always on the
// Messages family (the API reads a Messages body as JSON whatever its
// Content-Type says, so one labelled text/plain must not skip masking and
// policy), elsewhere when the Content-Type names JSON or is absent. resolved
// is the request path as apiPath resolves it.
func mustBeJSON(resolved, contentType string) bool {
	return isMessages(resolved) || isJSON(contentType)
}

// isJSON reports whether a request's content type says JSON (or says
// nothing, as some clients do), in any item of a list.
func isJSON(ct string) bool {
	if strings.TrimSpace(ct) == "" {
		return true
	}
	for item := range strings.SplitSeq(ct, ",") {
		mt, _, _ := strings.Cut(item, ";")
		mt = strings.TrimSpace(strings.ToLower(mt))
		if mt == "application/json" || strings.HasSuffix(mt, "+json") {
			return true
		}
	}
	return false
}

// isMessages reports whether a path apiPath resolved carries a
// Messages-style JSON body.
func isMessages(resolved string) bool { return strings.HasPrefix(resolved, "/v1/messages") }

// messages: the request is of the Messages family, its path resolved once
// (begin) and read from there on.
func (ex *exchange) messages() bool { return isMessages(ex.in.Request.Path) }

// apiPath is p as a server resolves it: rooted, with "//", "." and ".."
// collapsed and no trailing "/". The gateway forwards p as it came, so it
// judges it as the API will read it ("/v1//messages" is a Messages request).
func apiPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return path.Clean(p)
}
