package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/internal/sse"
)

// clientEvents parses what a client received with the shared scanner and
// checks it is a valid stream: every event terminated, every data JSON.
func clientEvents(t *testing.T, body []byte) (names []string, data []string) {
	t.Helper()
	sc := sse.NewScanner(len(body) + 1)
	sc.Write(body)
	sc.Close()
	for sc.Scan() {
		ev := sc.Event()
		if ev.Data == nil {
			continue
		}
		if !json.Valid(ev.Data) {
			t.Fatalf("event data is not JSON: %q", ev.Data)
		}
		names, data = append(names, string(ev.Name)), append(data, string(ev.Data))
	}
	if len(sc.Tail()) > 0 {
		t.Fatalf("stream ends inside an event: %q", sc.Tail())
	}
	return names, data
}

// server serves the gateway over real HTTP, as the TLS server would hand
// it a connection for apiHost.
func (e *env) server() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Host = apiHost
		e.gw.ServeHTTP(w, withOrigin(r, &caller.Origin{}))
	}))
}

// auditCount returns how many records the auditor holds.
func (a *fakeAuditor) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.recs)
}

// A CRLF stream is framed, masked and audited like an LF one, and the client
// gets a valid CRLF stream.
func TestCRLFStreamMaskedThroughGateway(t *testing.T) {
	h := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		crlf := strings.ReplaceAll(sseResponse, "\"Hello\"", "\"key AKIAIOSFODNN7EXAMPLE and "+r.Header.Get("X-Api-Key")+"\"")
		crlf = strings.ReplaceAll(crlf, "\n", "\r\n")
		for i := 0; i < len(crlf); i += 7 { // cut anywhere, CR apart from LF too
			io.WriteString(w, crlf[i:min(len(crlf), i+7)])
			w.(http.Flusher).Flush()
		}
	}
	e := newEnv(t, allowAll, h, withMasker(t))
	w := httptest.NewRecorder()
	var seenAtAudit string
	e.audit.onWrite = func(*audit.Record) { seenAtAudit = w.Body.String() }
	e.gw.ServeHTTP(w, newRequest("POST", "/v1/messages", `{"model":"m","max_tokens":10,"stream":true}`))
	got := w.Body.String()
	if strings.Contains(got, "AKIAIOSFODNN7EXAMPLE") || strings.Contains(got, managedKey) || !strings.Contains(got, "[REDACTED:aws_access_key_id") {
		t.Fatalf("not masked:\n%q", got)
	}
	names, _ := clientEvents(t, []byte(got))
	if strings.Count(got, "\r\n\r\n") != len(names) || strings.Contains(strings.ReplaceAll(got, "\r\n", ""), "\n") {
		t.Fatalf("not a CRLF stream of %d events:\n%q", len(names), got)
	}
	// The masker may split the delta where it held back the managed value.
	if n := strings.Join(names, ","); !strings.HasPrefix(n, "message_start,ping,content_block_start,content_block_delta,") ||
		!strings.HasSuffix(n, ",content_block_delta,content_block_stop,message_delta,message_stop") {
		t.Fatalf("events %v", names)
	}
	rec, _ := e.audit.last(t)
	if rec.InputTokens != 12 || rec.OutputTokens != 7 || rec.Masked["aws_access_key_id"] != 1 || rec.Masked["managed_credential"] != 1 {
		t.Errorf("record %+v", rec)
	}
	if strings.Contains(seenAtAudit, "message_stop") || !strings.Contains(seenAtAudit, "message_delta") {
		t.Errorf("audit written when the client had:\n%q", seenAtAudit)
	}
}

// The managed value echoed by an upstream in a body the gateway does not
// inspect, split across two writes and flushes, never reaches the client.
func TestManagedKeySplitAcrossChunks(t *testing.T) {
	for _, at := range []int{1, 7, len(managedKey) / 2, len(managedKey) - 1} {
		h := func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			key := r.Header.Get("X-Api-Key")
			io.WriteString(w, "echo: "+key[:at])
			w.(http.Flusher).Flush()
			time.Sleep(20 * time.Millisecond) // a separate read on the gateway's side
			io.WriteString(w, key[at:]+" end")
		}
		e := newEnv(t, allowAll, h)
		srv := e.server()
		resp, err := http.Get(srv.URL + "/v1/files/file_1/content")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if string(body) != "echo: "+redacted+" end" {
			t.Fatalf("split at %d: client got %q", at, body)
		}
		if rec, _ := e.audit.last(t); rec.BytesOut != int64(len(body)) {
			t.Errorf("split at %d: bytes out %d, want %d", at, rec.BytesOut, len(body))
		}
	}
}

// chunks is an upstream body that returns its pieces one read at a time.
type chunks struct {
	pieces [][]byte
	err    error // after the pieces; nil = io.EOF
	closed bool
}

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.pieces) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		return 0, io.EOF
	}
	n := copy(p, c.pieces[0])
	if c.pieces[0] = c.pieces[0][n:]; len(c.pieces[0]) == 0 {
		c.pieces = c.pieces[1:]
	}
	return n, nil
}

func (c *chunks) Close() error { c.closed = true; return nil }

// respBody wraps src in the response body of a new exchange of the env's
// gateway, through the transformer tr makes for it.
func (e *env) respBody(t *testing.T, src io.ReadCloser, tr func(*exchange) transformer) *respBody {
	t.Helper()
	ex := e.gw.begin(newRequest("GET", "/v1/files/x/content", ""))
	var err error
	if ex.cred, err = e.store.Get(context.Background(), "main"); err != nil {
		t.Fatal(err)
	}
	return e.gw.newRespBody(ex, src, tr(ex))
}

// pipeline runs a body through a transformer of the env's gateway.
func (e *env) pipeline(t *testing.T, src io.ReadCloser, tr func(*exchange) transformer) ([]byte, error) {
	t.Helper()
	b := e.respBody(t, src, tr)
	out, err := io.ReadAll(b)
	b.Close()
	return out, err
}

func passThrough(ex *exchange) transformer { return newPassTransform(ex) }

// Wherever the value is cut, and however finely, the pass transformer
// scrubs it and releases every other byte unchanged.
func TestPassScrubsAtEverySplit(t *testing.T) {
	e := newEnv(t, allowAll, nil)
	in := "a" + managedKey + "b" + managedKey[:5] + "c" + managedKey
	want := strings.ReplaceAll(in, managedKey, redacted)
	for i := range len(in) + 1 {
		for _, j := range []int{i, i + 1, i + 3} {
			j = min(j, len(in))
			out, err := e.pipeline(t, &chunks{pieces: [][]byte{[]byte(in[:i]), []byte(in[i:j]), []byte(in[j:])}}, passThrough)
			if err != nil || string(out) != want {
				t.Fatalf("cuts %d,%d: %q %v", i, j, out, err)
			}
		}
	}
	if n := e.audit.count(); n != 2*(len(in)+1)+len(in)+1 {
		t.Errorf("%d audit records", n)
	}
}

// panicky is a transformer with a bug.
type panicky struct{ passTransform }

func (panicky) write(out, p []byte) ([]byte, error) { panic("index out of range") }

// finish runs exactly once on every way a response can end.
func TestFinishOnceOnEveryPath(t *testing.T) {
	e := newEnv(t, allowAll, nil)
	pass := func(ex *exchange) transformer { return newPassTransform(ex) }
	cases := []struct {
		name    string
		src     *chunks
		tr      func(*exchange) transformer
		wantErr error
		reason  string
	}{
		{"eof", &chunks{pieces: [][]byte{[]byte("ok")}}, pass, nil, ""},
		{"upstream error", &chunks{pieces: [][]byte{[]byte("par")}, err: io.ErrUnexpectedEOF}, pass, io.ErrUnexpectedEOF, "broke off"},
		{"request canceled", &chunks{pieces: [][]byte{[]byte("par")}, err: context.Canceled}, pass, context.Canceled, "client went away"},
		{"panic", &chunks{pieces: [][]byte{[]byte("x")}}, func(ex *exchange) transformer { return &panicky{*newPassTransform(ex)} }, errPanicked, "internal error"},
	}
	for _, c := range cases {
		before := e.audit.count()
		_, err := e.pipeline(t, c.src, c.tr)
		rec, _ := e.audit.last(t)
		if !errors.Is(err, c.wantErr) || e.audit.count() != before+1 || !strings.Contains(rec.Reason, c.reason) || !c.src.closed {
			t.Errorf("%s: err %v, %d records, reason %q, closed %v", c.name, err, e.audit.count()-before, rec.Reason, c.src.closed)
		}
	}
	// The client going away: Close before the end.
	ex := e.gw.begin(newRequest("GET", "/v1/files/x/content", ""))
	b := e.gw.newRespBody(ex, &chunks{pieces: [][]byte{[]byte("abc"), []byte("def")}}, newPassTransform(ex))
	before := e.audit.count()
	b.Read(make([]byte, 1))
	b.Close()
	b.Close()
	if e.audit.count() != before+1 {
		t.Errorf("client gone: %d records", e.audit.count()-before)
	}
}

// An upstream that breaks off mid-stream leaves one record that says so.
func TestUpstreamBreaksOffMidStream(t *testing.T) {
	h := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, strings.SplitAfter(sseResponse, "\n\n")[0])
		w.(http.Flusher).Flush()
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}
	e := newEnv(t, allowAll, h)
	srv := e.server()
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/messages", "application/json", strings.NewReader(`{"model":"m","max_tokens":1,"stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	rec, _ := e.audit.last(t)
	if e.audit.count() != 1 || !strings.Contains(rec.Reason, "broke off") || rec.InputTokens != 12 {
		t.Fatalf("%d records, last %+v", e.audit.count(), rec)
	}
}
