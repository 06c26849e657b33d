package gateway

import (
	"errors"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/apierror"
	"github.com/airlock-dev/airlock/policy"
)

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

// prepare parses the fields rules read and runs the first masking pass,
// whose counts become the rules' `findings`. It refuses (and answers) a
// body nested too deep or with a repeated key; false means it answered.
func (g *Gateway) prepare(w http.ResponseWriter, ex *exchange, r *http.Request, body []byte, embedded string) bool {
	ex.in.Embedded = embedded
	ex.body, ex.orig = body, body
	q := &ex.in.Request
	if !mustBeJSON(r) { // multipart uploads and the like: no body fields to read
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
	masked, res, err := g.cfg.Masker.Request(ex.orig, nil)
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

// mustBeJSON reports whether r's body is read as JSON: always on the
// Messages family (the API reads a Messages body as JSON whatever its
// Content-Type says, so one labelled text/plain must not skip masking and
// policy), elsewhere when the Content-Type names JSON or is absent.
func mustBeJSON(r *http.Request) bool {
	return isMessages(path.Clean("/"+r.URL.Path)) || isJSON(r.Header.Get("Content-Type"))
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

// isMessages reports whether path carries a Messages-style JSON body.
func isMessages(path string) bool { return strings.HasPrefix(path, "/v1/messages") }
