package gateway

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/caller"
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

// A body whose masking outlasts masking.budget (a hostile process sending
// megabytes of secret-dense text to burn CPU) is refused with 413 and an
// audit record; nothing reaches the upstream, masked or not.
func TestMaskingBudgetRefusesRequest(t *testing.T) {
	m, err := mask.New(mask.Config{Key: []byte("test-install"), Budget: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var dense strings.Builder
	for dense.Len() < 4<<20 { // far more than 1 ms of masking on any machine
		dense.WriteString("AKIAIOSFODNN7EXAMPLE ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000 password=hunter2FAKE ")
	}
	body := `{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":"` + dense.String() + `"}]}`
	e := newEnv(t, allowAll, nil, func(c *Config, _ *credentialConfig) { c.Masker = m })
	w := e.do(newRequest("POST", "/v1/messages", body))
	if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "request_too_large") ||
		!strings.Contains(w.Body.String(), "masking.budget") {
		t.Fatalf("status %d %.300s", w.Code, w.Body)
	}
	if e.up.count() != 0 {
		t.Fatal("the upstream received the request")
	}
	rec, _ := e.audit.last(t)
	if rec.Status != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Reason, "masking budget exceeded") {
		t.Errorf("audit record: status %d reason %q", rec.Status, rec.Reason)
	}
}

// TestMaskCacheIsPerCaller: a prompt masked for one caller is served from
// the masker's cache to that caller only. Another user, or the same user in
// another network namespace, gets a miss, and so cannot time the cache to
// learn what the first sent.
func TestMaskCacheIsPerCaller(t *testing.T) {
	e := newEnv(t, allowAll, nil, withMasker(t))
	body := `{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":"` +
		strings.Repeat("a long document of the first caller. ", 10) + `AKIAIOSFODNN7EXAMPLE"}]}`
	send := func(p caller.Process) int {
		t.Helper()
		if w := e.do(withOrigin(newRequest("POST", "/v1/messages", body), &caller.Origin{Process: p})); w.Code != 200 {
			t.Fatalf("status %d %s", w.Code, w.Body)
		}
		return e.gw.cfg.Masker.CacheLen()
	}
	first := caller.Process{PID: 10, UID: 1000, CgroupID: 77, Netns: 4026531840}
	n := send(first)
	if again := send(caller.Process{PID: 11, UID: 1000, CgroupID: 77, Netns: 4026531840}); again != n {
		t.Errorf("the same user, cgroup and namespace: %d cached after %d, want a hit", again, n)
	}
	for _, other := range []caller.Process{
		{PID: 12, UID: 1001, CgroupID: 77, Netns: 4026531840},
		{PID: 13, UID: 1000, CgroupID: 78, Netns: 4026531840},
		{PID: 14, UID: 1000, CgroupID: 77, Netns: 4026532000},
	} {
		if got := send(other); got <= n {
			t.Errorf("caller %+v: %d cached after %d, want a miss", other, got, n)
		} else {
			n = got
		}
	}
}
