package gateway

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/airlock-dev/airlock/audit"
)

func TestStreamUsageRecordingAndAuditBeforeFinalEvent(t *testing.T) {
	e := newEnv(t, allowAll, sseUpstream)
	w := httptest.NewRecorder()
	var seenAtAudit string
	e.audit.onWrite = func(*audit.Record) { seenAtAudit = w.Body.String() }
	r := newRequest("POST", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":10,"stream":true}`)
	e.gw.ServeHTTP(w, r)
	if w.Body.String() != sseResponse {
		t.Fatalf("client stream differs:\n%s", w.Body)
	}
	if strings.Contains(seenAtAudit, "message_stop") || !strings.Contains(seenAtAudit, "message_delta") {
		t.Errorf("audit was written when the client had:\n%s", seenAtAudit)
	}
	rec, rc := e.audit.last(t)
	if rec.InputTokens != 12 || rec.OutputTokens != 7 || rec.CacheReadTokens != 3 || !rec.Stream {
		t.Errorf("usage %+v", rec)
	}
	if rec.UpstreamID != "req_upstream_sse" || rec.Status != 200 || rec.Model != "claude-sonnet-4-5" || rec.Rule != "everyone" {
		t.Errorf("record %+v", rec)
	}
	if rc == nil || rc.Status != 200 || !strings.HasPrefix(rc.ContentType, "text/event-stream") {
		t.Fatalf("recording without status or content type: %+v", rc)
	}
	if len(rc.Events) != 7 || string(rc.Events[6].Data) != "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n" {
		t.Fatalf("recording %+v", rc)
	}
	if !strings.Contains(string(rc.RequestBody), `"stream":true`) {
		t.Errorf("recording request body %q", rc.RequestBody)
	}
}

func TestJSONUsageAndMetadataOnlyRecording(t *testing.T) {
	pol := "rules:\n  - id: quiet\n    when: \"true\"\n    action: allow\n    record: metadata\n"
	e := newEnv(t, pol, nil)
	w := e.do(newRequest("POST", "/v1/messages", messagesBody))
	if w.Code != 200 || !strings.Contains(w.Body.String(), "msg_1") {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	rec, rc := e.audit.last(t)
	if rec.InputTokens != 10 || rec.OutputTokens != 5 || rec.UpstreamID != "req_upstream_1" || rec.TTFB <= 0 || rec.Duration < rec.TTFB {
		t.Errorf("record %+v", rec)
	}
	if rc != nil {
		t.Errorf("metadata-only rule produced a recording")
	}
}

// Tokens charged after each response count against the rule's budget.
func TestBudgetChargedFromUsage(t *testing.T) {
	pol := "rules:\n  - id: b\n    when: \"true\"\n    action: allow\n    budget: {daily_tokens: 20}\n"
	e := newEnv(t, pol, nil) // each response uses 15 tokens
	for i, want := range []int{200, 200, 429} {
		if w := e.do(newRequest("POST", "/v1/messages", messagesBody)); w.Code != want {
			t.Fatalf("request %d: status %d, want %d", i, w.Code, want)
		}
	}
}

func TestUpstreamUnreachable(t *testing.T) {
	e := newEnv(t, allowAll, nil)
	e.up.srv.Close()
	w := e.do(newRequest("POST", "/v1/messages", messagesBody))
	if w.Code != http.StatusBadGateway || decodeError(t, w.Body.Bytes()).Error.Type != "api_error" {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	if rec, _ := e.audit.last(t); rec.Decision != "error" || rec.Status != 502 {
		t.Errorf("record %+v", rec)
	}
}

// The first event a client is to receive goes out on its own, before the
// rest of the upstream read that carried it is masked, gated and recorded;
// the rest follows unchanged, in order, before the upstream is read again.
// The whole answer in one read, then with its end in that same read.
func TestFirstEventGoesOutAlone(t *testing.T) {
	e := newEnv(t, actionPolicy, nil, withMasker(t))
	first := sseResponse[:strings.Index(sseResponse, "event: ping")]
	for _, src := range []struct {
		name string
		body func() io.ReadCloser
	}{
		{"one read, then the end", func() io.ReadCloser { return &chunks{pieces: [][]byte{[]byte(sseResponse)}} }},
		{"one read with the end", func() io.ReadCloser { return io.NopCloser(iotest.DataErrReader(strings.NewReader(sseResponse))) }},
	} {
		ex := e.gw.begin(newRequest("POST", "/v1/messages", streamReq))
		ex.maskResp, ex.rc = true, &audit.Recording{}
		var err error
		if ex.cred, err = e.store.Get(context.Background(), "main"); err != nil {
			t.Fatal(err)
		}
		b := e.gw.newRespBody(ex, src.body(), e.gw.newSSETransform(context.Background(), ex))
		p := make([]byte, 64<<10)
		n, err := b.Read(p)
		if err != nil || string(p[:n]) != first {
			t.Fatalf("%s: first read %q, %v; want the first event alone", src.name, p[:n], err)
		}
		rest, err := io.ReadAll(b)
		b.Close()
		if err != nil || first+string(rest) != sseResponse {
			t.Fatalf("%s: the client got %q, %v", src.name, first+string(rest), err)
		}
		if rec, rc := e.audit.last(t); len(rc.Events) != 7 || rec.OutputTokens != 7 || rec.BytesOut != int64(len(sseResponse)) {
			t.Fatalf("%s: recorded %d events, %+v", src.name, len(rc.Events), rec)
		}
	}
}
