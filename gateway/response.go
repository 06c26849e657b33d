package gateway

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"strconv"
	"time"

	"github.com/tidwall/gjson"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/policy/mask"
)

// bufferJSON reads a JSON response whole, masks it, takes its usage, writes
// the audit record and only then releases it.
func (g *Gateway) bufferJSON(ex *exchange, resp *http.Response) error {
	body, err := readLimited(resp.Body, g.cfg.MaxBody, resp.ContentLength)
	resp.Body.Close()
	if err != nil {
		return err
	}
	body = scrubBytes(body, ex.secret())
	if ex.maskResp && resp.StatusCode == http.StatusOK && isMessages(resp.Request.URL.Path) {
		body = g.maskResponse(ex, body)
	}
	takeUsage(&ex.rec, gjson.GetBytes(body, "usage"))
	ex.rec.BytesOut = int64(len(body))
	if ex.rc != nil {
		ex.rc.Events = append(ex.rc.Events, eventAt(ex, body))
	}
	if g.finish(ex) != nil {
		resp.StatusCode, body = statusAuditFailed, auditFailedBody(ex)
	}
	resp.Body = newBodyReader(body)
	resp.ContentLength = int64(len(body))
	setHeader(resp.Header, "Content-Length", strconv.Itoa(len(body)))
	return nil
}

// readLimited reads r to its end, at most limit bytes, into a buffer sized
// from the declared length (when known) so it is read without regrowing.
func readLimited(r io.Reader, limit, declared int64) ([]byte, error) {
	size := int64(bytes.MinRead)
	if declared >= 0 && declared < limit {
		size = declared + bytes.MinRead // room to see EOF without growing
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(io.LimitReader(r, limit))
	return buf.Bytes(), err
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

func (g *Gateway) maskResponse(ex *exchange, body []byte) []byte {
	masked, res, err := g.cfg.Masker.Response(body, mask.Selection(ex.decision.Mask.Response))
	if err != nil {
		return body // not a Messages response shape; the managed value was scrubbed already
	}
	addCounts(ex, res)
	return masked
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
