package gateway

import (
	"bytes"
	"net/http"
	"strings"
)

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

// passTransform relays a body the gateway does not inspect (file downloads,
// batch results, unknown endpoints). It scrubs the managed value across
// chunk boundaries by holding back len(value)-1 bytes, which a value split
// over two reads needs, and at least one, so the record is written before
// the last byte goes out.
type passTransform struct {
	ex     *exchange
	secret string
	hold   int
	tail   []byte
}

func newPassTransform(ex *exchange) *passTransform {
	s := ex.secret()
	return &passTransform{ex: ex, secret: s, hold: max(len(s)-1, 1)}
}

func (t *passTransform) write(out, p []byte) ([]byte, error) {
	start := len(out)
	out = append(append(out, t.tail...), p...)
	if clean := scrubBytes(out[start:], t.secret); len(clean) != len(out)-start || &clean[0] != &out[start] {
		out = append(out[:start], clean...)
	}
	cut := max(len(out)-t.hold, start)
	t.tail = append(t.tail[:0], out[cut:]...)
	t.ex.rec.BytesOut += int64(cut - start)
	return out[:cut], nil
}

func (t *passTransform) end(out []byte) []byte {
	t.ex.rec.BytesOut += int64(len(t.tail))
	return append(out, t.tail...)
}

// auditFailed cuts the body: its status line is long gone.
func (t *passTransform) auditFailed() ([]byte, error) { return nil, errAuditFailed }
