package gateway

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/airlock-dev/airlock/apierror"
	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/policy/mask"
)

// bufferJSON runs a JSON response whole through the pipeline before its
// headers go out: masked, its usage taken, audited, then released with its
// final length (and status, when it was cut or could not be audited).
func (g *Gateway) bufferJSON(ex *exchange, resp *http.Response) error {
	size := int64(bytes.MinRead)
	if resp.ContentLength >= 0 && resp.ContentLength < g.cfg.MaxBody {
		size = resp.ContentLength
	}
	t := &jsonTransform{g: g, ex: ex, resp: resp, body: make([]byte, 0, size)}
	b := g.newRespBody(ex, resp.Body, t)
	if err := b.prefetch(); err != nil {
		return err // resp.Body is still the upstream's, for the proxy to close
	}
	resp.Body = b
	resp.ContentLength = int64(len(b.out))
	setHeader(resp.Header, "Content-Length", strconv.Itoa(len(b.out)))
	return nil
}

// jsonTransform holds a whole JSON body, at most MaxBody bytes.
type jsonTransform struct {
	g    *Gateway
	ex   *exchange
	resp *http.Response
	body []byte
	cut  bool
}

func (t *jsonTransform) write(out, p []byte) ([]byte, error) {
	if int64(len(t.body)+len(p)) > t.g.cfg.MaxBody {
		t.cut = true
		return out, errCut
	}
	t.body = append(t.body, p...)
	return out, nil
}

func (t *jsonTransform) end(out []byte) []byte {
	ex, body := t.ex, scrubBytes(t.body, t.ex.secret())
	if t.cut {
		msg := holdBound("the upstream JSON response", int(t.g.cfg.MaxBody))
		ex.rec.Reason = msg
		body = t.replace(statusCut, apierror.Marshal(apierror.API, msg, ex.rec.RequestID))
	} else if t.resp.StatusCode == http.StatusOK && ex.messages() {
		if answer, err := t.g.messagesAnswer(t.resp.Request.Context(), ex, body); err != nil {
			msg := "airlock: " + err.Error() + "; the answer was not passed on"
			ex.rec.Reason = msg
			body = t.replace(statusCut, apierror.Marshal(apierror.API, msg, ex.rec.RequestID))
		} else {
			body = answer
		}
	}
	takeUsage(&ex.rec, gjson.GetBytes(body, "usage"))
	ex.rec.BytesOut = int64(len(body))
	if ex.rc != nil {
		ex.rc.Events = append(ex.rc.Events, eventAt(ex, body))
	}
	if len(out) == 0 {
		return body
	}
	return append(out, body...)
}

// auditFailed answers 503 in the API's shape instead.
func (t *jsonTransform) auditFailed() ([]byte, error) {
	return t.replace(statusAuditFailed, auditFailedBody(t.ex)), nil
}

// replace makes the gateway's own error body the answer.
func (t *jsonTransform) replace(status int, body []byte) []byte {
	t.resp.StatusCode, t.ex.rec.Status = status, status
	t.resp.Header.Set("Content-Type", "application/json")
	if t.ex.rc != nil {
		t.ex.rc.Status = status
	}
	return body
}

// setHeader is Header.Set reusing the value slice already there (key in
// canonical form).
func setHeader(h http.Header, key, value string) {
	if vs := h[key]; len(vs) == 1 {
		vs[0] = value
		return
	}
	h[key] = []string{value}
}

// messagesAnswer masks a whole Messages answer and lets the action rules
// decide its tool calls. An answer that cannot be masked is an error, never
// passed on as it came: masking fails closed.
func (g *Gateway) messagesAnswer(ctx context.Context, ex *exchange, body []byte) ([]byte, error) {
	if ex.maskResp {
		masked, res, err := g.cfg.Masker.For(ex.scope).Response(body, mask.Selection(ex.decision.Mask.Response))
		if err != nil {
			return nil, fmt.Errorf("masking the answer: %w", err)
		}
		addCounts(ex, res)
		body = masked
	}
	gated, verdicts, err := g.gateJSON(ctx, ex, body)
	if err != nil {
		return nil, err
	}
	actionsOf(&ex.rec, gated, verdicts)
	return gated, nil
}

// addCounts merges a masking result into the record without touching the
// masker's own map.
func addCounts(ex *exchange, res mask.Result) {
	if len(res.Counts) > 0 {
		m := maps.Clone(ex.rec.Masked)
		if m == nil {
			m = map[string]int{}
		}
		for k, v := range res.Counts {
			m[k] += v
		}
		ex.rec.Masked = m
	}
	ex.rec.MaskIncomplete = ex.rec.MaskIncomplete || res.Incomplete
}

// takeUsage copies the token counts present in a usage object; counts absent
// from it (message_delta often omits input tokens) are left as they were.
func takeUsage(r *audit.Record, u gjson.Result) {
	if !u.IsObject() {
		return
	}
	set := func(dst *int64, key string) {
		if v := u.Get(key); v.Exists() {
			*dst = v.Int()
		}
	}
	set(&r.InputTokens, "input_tokens")
	set(&r.OutputTokens, "output_tokens")
	set(&r.CacheReadTokens, "cache_read_input_tokens")
	set(&r.CacheWriteTokens, "cache_creation_input_tokens")
}

func eventAt(ex *exchange, data []byte) audit.Event {
	at := ex.respAt
	if at.IsZero() {
		at = ex.start
	}
	return audit.Event{Offset: time.Since(at), Data: data}
}

// unreadableError refuses an answer to a Messages request that the pipeline
// cannot read: passed on, its tool calls would reach the agent undecided
// and its text unmasked.
type unreadableError struct{ why string }

func (e *unreadableError) Error() string { return e.why }

// unreadable says why an answer of this encoding and media type cannot be
// read, or "" when it can.
func unreadable(enc, mt string) string {
	switch {
	case enc != "":
		return "the API's answer came encoded (" + shortQuote(enc) + ") although Airlock asked for it unencoded"
	case mt == "":
		return "the API's answer has no content type"
	case mt != "application/json" && mt != "text/event-stream":
		return "the API's answer is of type " + shortQuote(mt) + ", neither JSON nor an event stream"
	}
	return ""
}

// encodingOf is the answer's content coding, "" for none ("identity" is none).
func encodingOf(h http.Header) string {
	enc := strings.TrimSpace(h.Get("Content-Encoding"))
	if strings.EqualFold(enc, "identity") {
		return ""
	}
	return enc
}

// mediaType is a Content-Type's media type, lower-cased without its
// parameters (which the pipeline does not read).
func mediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// createsMessage: the one endpoint whose answers carry the tool calls an
// agent acts on (batch results and token counts do not).
func (ex *exchange) createsMessage() bool {
	q := &ex.in.Request
	return q.Method == http.MethodPost && q.Path == "/v1/messages"
}

// shortQuote quotes an upstream-chosen value for a message: escaped, at most 40 bytes of it.
func shortQuote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strconv.Quote(s)
}
