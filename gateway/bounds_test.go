package gateway

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/policy/mask"
)

func withConfig(f func(*Config)) envOpt {
	return func(c *Config, _ *credentialConfig) { f(c) }
}

// endless streams what next returns until the gateway hangs up, or up to
// limit bytes (the test fails then, rather than hang).
func endless(first string, next func() string, limit int, sent *int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, first)
		for *sent = len(first); *sent < limit && r.Context().Err() == nil; {
			n, err := io.WriteString(w, next())
			if err != nil {
				return
			}
			*sent += n
			w.(http.Flusher).Flush()
		}
	}
}

// cutStream checks that the client got a valid stream that ends with an
// API-shaped error event, and one record that says which bound.
func cutStream(t *testing.T, e *env, body []byte, bound string) {
	t.Helper()
	names, data := clientEvents(t, body)
	if len(names) == 0 || names[len(names)-1] != "error" || !strings.Contains(data[len(data)-1], `"type":"api_error"`) ||
		!strings.Contains(data[len(data)-1], bound) {
		t.Fatalf("stream does not end with an api_error naming %q: %v %q", bound, names, data)
	}
	if e.audit.count() != 1 {
		t.Fatalf("%d audit records", e.audit.count())
	}
	if rec, rc := e.audit.last(t); !strings.Contains(rec.Reason, bound) || !strings.Contains(string(rc.Events[len(rc.Events)-1].Data), bound) {
		t.Fatalf("record reason %q", rec.Reason)
	}
}

func streamRequest() *http.Request {
	return newRequest("POST", "/v1/messages", `{"model":"m","max_tokens":10,"stream":true}`)
}

// Issue 11 item 9: an upstream stream with no blank line between events is
// cut at the event bound, not held without limit.
func TestStreamWithoutBlankLinesIsCut(t *testing.T) {
	var sent int
	first := strings.SplitAfter(sseResponse, "\n\n")[0]
	h := endless(first, func() string { return "data: {\"type\":\"ping\"}\n" }, 64<<20, &sent)
	e := newEnv(t, allowAll, h, withConfig(func(c *Config) { c.MaxEvent = 64 << 10 }))
	w := e.do(streamRequest())
	if !strings.HasPrefix(w.Body.String(), first) || strings.Contains(w.Body.String(), "ping") {
		t.Fatalf("client got the unterminated event: %q", tail(w.Body.String()))
	}
	cutStream(t, e, w.Body.Bytes(), "an upstream SSE event exceeded 65536 bytes")
	if sent >= 64<<20 {
		t.Fatalf("the gateway read the whole %d-byte stream", sent)
	}
}

// Events after message_stop are held only up to a bound.
func TestEventsAfterStopAreBounded(t *testing.T) {
	var sent int
	h := endless(sseResponse, func() string { return "event: ping\ndata: {\"type\":\"ping\"}\n\n" }, 64<<20, &sent)
	e := newEnv(t, allowAll, h)
	w := e.do(streamRequest())
	if strings.Contains(w.Body.String(), "event: message_stop") {
		t.Fatalf("held events released after the cut: %q", tail(w.Body.String()))
	}
	cutStream(t, e, w.Body.Bytes(), "the events after message_stop exceeded")
	if rec, _ := e.audit.last(t); rec.InputTokens != 12 || rec.OutputTokens != 7 {
		t.Errorf("usage lost: %+v", rec)
	}
}

// With masking on, the masker's hold bound (on_overflow: cut) ends the
// stream with its error event, which reaches the client.
func TestMaskHoldOverflowCutReachesClient(t *testing.T) {
	m, err := mask.New(mask.Config{Key: []byte("k"), MaxHold: 256, CutOnOverflow: true})
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Join(strings.SplitAfter(sseResponse, "\n\n")[:3], "")
	delta := func(text string) string {
		return "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"" + text + "\"}}\n\n"
	}
	var sent int
	first := start + delta("-----BEGIN RSA PRIVATE KEY-----\\n") // holds until its END
	h := endless(first, func() string { return delta(strings.Repeat("QUFB", 50)) }, 1<<20, &sent)
	e := newEnv(t, allowAll, h, withConfig(func(c *Config) { c.Masker = m }))
	w := e.do(streamRequest())
	if strings.Contains(w.Body.String(), "QUFB") || strings.Contains(w.Body.String(), "PRIVATE KEY") {
		t.Fatalf("held text released: %q", tail(w.Body.String()))
	}
	cutStream(t, e, w.Body.Bytes(), "masking hold bound")
	if rec, _ := e.audit.last(t); !rec.MaskIncomplete {
		t.Errorf("record not flagged: %+v", rec)
	}
}

// A chunked JSON answer over MaxBody is answered 502 in the API's shape,
// never truncated silently.
func TestJSONOverBoundIsRefused(t *testing.T) {
	h := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"msg_1","content":[{"type":"text","text":"`)
		w.(http.Flusher).Flush() // chunked: no Content-Length
		io.WriteString(w, strings.Repeat("x", 8<<10)+`"}]}`)
	}
	e := newEnv(t, allowAll, h, withConfig(func(c *Config) { c.MaxBody = 4 << 10 }))
	w := e.do(newRequest("POST", "/v1/messages", messagesBody))
	if w.Code != http.StatusBadGateway || decodeError(t, w.Body.Bytes()).Error.Type != "api_error" || strings.Contains(w.Body.String(), "xxxx") {
		t.Fatalf("status %d %s", w.Code, tail(w.Body.String()))
	}
	if rec, _ := e.audit.last(t); rec.Status != 502 || !strings.Contains(rec.Reason, "exceeded 4096 bytes") || e.audit.count() != 1 {
		t.Fatalf("record %+v", rec)
	}
}

// The recording of a long stream stops at its bound and says so; the
// client still gets the whole stream.
func TestRecordingIsBounded(t *testing.T) {
	big := "event: ping\ndata: {\"type\":\"ping\",\"pad\":\"" + strings.Repeat("p", 64<<10) + "\"}\n\n"
	h := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for range (maxRecorded / len(big)) + 8 {
			io.WriteString(w, big)
		}
		io.WriteString(w, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	}
	e := newEnv(t, allowAll, h)
	w := e.do(streamRequest())
	if !strings.HasSuffix(w.Body.String(), "message_stop\"}\n\n") {
		t.Fatalf("stream not complete: %q", tail(w.Body.String()))
	}
	_, rc := e.audit.last(t)
	size := 0
	for _, ev := range rc.Events {
		size += len(ev.Data)
	}
	last := string(rc.Events[len(rc.Events)-1].Data)
	if size > maxRecorded+len(big)+100 || !strings.Contains(last, "recording truncated") {
		t.Fatalf("recording of %d bytes, last event %q", size, tail(last))
	}
}

func tail(s string) string { return s[max(0, len(s)-200):] }
