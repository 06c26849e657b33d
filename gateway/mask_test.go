package gateway

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/policy/mask"
)

func withMasker(t testing.TB) envOpt {
	m, err := mask.New(mask.Config{Key: []byte("test-install")})
	if err != nil {
		t.Fatal(err)
	}
	return func(c *Config, _ *credentialConfig) { c.Masker = m }
}

const awsBody = `{"model":"claude-sonnet-4-5","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"deploy with AKIAIOSFODNN7EXAMPLE please"}]}`

// The request is masked before it leaves; the managed value the upstream
// streams back (split across events) is masked before the client sees it.
func TestMaskingBothDirections(t *testing.T) {
	leak := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		key := r.Header.Get("X-Api-Key")
		io.WriteString(w, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n")
		for _, part := range []string{"key: " + key[:20], key[20:] + "."} {
			io.WriteString(w, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\""+part+"\"}}\n\n")
			w.(http.Flusher).Flush()
		}
		io.WriteString(w, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n")
		io.WriteString(w, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	}
	e := newEnv(t, allowAll, leak, withMasker(t))
	w := e.do(newRequest("POST", "/v1/messages", awsBody))
	if w.Code != 200 {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	if up := string(e.up.last(t).Body); strings.Contains(up, "AKIAIOSFODNN7EXAMPLE") || !strings.Contains(up, "[REDACTED:aws_access_key_id") {
		t.Errorf("upstream body not masked: %s", up)
	}
	if got := w.Body.String(); strings.Contains(got, managedKey[20:]) || !strings.Contains(got, "managed_credential") || !strings.Contains(got, "message_stop") {
		t.Errorf("client stream:\n%s", got)
	}
	rec, rc := e.audit.last(t)
	if rec.Masked["aws_access_key_id"] != 1 || rec.Masked["managed_credential"] != 1 {
		t.Errorf("masked counts %v", rec.Masked)
	}
	if strings.Contains(string(rc.RequestBody), "AKIAIOSFODNN7EXAMPLE") {
		t.Error("recording holds the unmasked request")
	}
}

// A rule can refuse requests in which the first masking pass found a secret.
func TestFindingsDeny(t *testing.T) {
	pol := "rules:\n  - id: no-secrets\n    when: 'true'\n    action: allow\n    mask: {request: [aws_access_key_id], on_match: deny}\n"
	e := newEnv(t, pol, nil, withMasker(t))
	w := e.do(newRequest("POST", "/v1/messages", awsBody))
	if w.Code != 403 || !strings.Contains(w.Body.String(), "aws_access_key_id") || e.up.count() != 0 {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	if w := e.do(newRequest("POST", "/v1/messages", messagesBody)); w.Code != 200 {
		t.Fatalf("clean request: %d", w.Code)
	}
}
