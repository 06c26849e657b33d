package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/policy"
	"github.com/airlock-dev/airlock/policy/approval"
	"github.com/airlock-dev/airlock/policy/credential"
)

const (
	managedKey  = "sk-ant-api03-FAKE-managed-key-not-real"
	managedKey2 = "sk-ant-api03-FAKE-rotated-key-not-real"
	clientKey   = "sk-ant-api03-FAKE-embedded-client-key"
	allowAll    = "rules:\n  - id: everyone\n    when: \"true\"\n    action: allow\n"
	sseResponse = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":{\"input_tokens\":12,\"output_tokens\":1,\"cache_read_input_tokens\":3}}}\n\n" +
		"event: ping\ndata: {\"type\":\"ping\"}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n" +
		"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":7}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
)

// upstream is a minimal recording API stand-in; handler decides the answer.
type upstream struct {
	mu       sync.Mutex
	requests []recorded
	handler  http.HandlerFunc
	srv      *httptest.Server
}

type recorded struct {
	Method, URI, Host string
	Header            http.Header
	Body              []byte
	Trailer           http.Header // what arrived after the body
}

func newUpstream(t testing.TB, h http.HandlerFunc) *upstream {
	t.Helper()
	u := newUnstartedUpstream(t, h)
	u.srv.Start()
	return u
}

// newUnstartedUpstream lets the caller choose TLS and protocols.
func newUnstartedUpstream(t testing.TB, h http.HandlerFunc) *upstream {
	t.Helper()
	u := &upstream{handler: h}
	u.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.requests = append(u.requests, recorded{r.Method, r.RequestURI, r.Host, r.Header.Clone(), body, r.Trailer.Clone()})
		u.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if u.handler == nil {
			okJSON(w, r)
			return
		}
		u.handler(w, r)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) last(t testing.TB) recorded {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.requests) == 0 {
		t.Fatal("upstream received no request")
	}
	return u.requests[len(u.requests)-1]
}

func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.requests)
}

func okJSON(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_upstream_1")
	io.WriteString(w, `{"id":"msg_1","type":"message","content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":10,"output_tokens":5}}`)
}

func sseUpstream(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Request-Id", "req_upstream_sse")
	for ev := range strings.SplitAfterSeq(sseResponse, "\n\n") {
		io.WriteString(w, ev)
		w.(http.Flusher).Flush()
	}
}

// fakeAuditor keeps every record; onWrite runs inside Write.
type fakeAuditor struct {
	mu       sync.Mutex
	recs     []audit.Record
	rcs      []*audit.Recording
	readyErr error
	writeErr error
	onWrite  func(*audit.Record)
}

func (a *fakeAuditor) Ready() error { return a.readyErr }

func (a *fakeAuditor) Write(_ context.Context, rec *audit.Record, rc *audit.Recording) error {
	if a.onWrite != nil {
		a.onWrite(rec)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.recs = append(a.recs, *rec)
	a.rcs = append(a.rcs, rc)
	return a.writeErr
}

func (a *fakeAuditor) last(t testing.TB) (audit.Record, *audit.Recording) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.recs) == 0 {
		t.Fatal("no audit record written")
	}
	return a.recs[len(a.recs)-1], a.rcs[len(a.rcs)-1]
}

// approverFunc adapts a function to Approver.
type approverFunc func(context.Context, approval.Request) (approval.Outcome, error)

func (f approverFunc) Await(ctx context.Context, r approval.Request) (approval.Outcome, error) {
	return f(ctx, r)
}

// env is a gateway wired to an upstream, a credential file and an auditor.
type env struct {
	gw      *Gateway
	up      *upstream
	store   *credential.Store
	keyFile string
	audit   *fakeAuditor
}

type envOpt func(*Config, *credentialConfig)

func newEnv(t testing.TB, policySrc string, h http.HandlerFunc, opts ...envOpt) *env {
	t.Helper()
	return newEnvOn(t, policySrc, newUpstream(t, h), opts...)
}

// newEnvOn is newEnv with an upstream the caller built.
func newEnvOn(t testing.TB, policySrc string, up *upstream, opts ...envOpt) *env {
	t.Helper()
	e := &env{up: up, audit: &fakeAuditor{}}
	e.keyFile = filepath.Join(t.TempDir(), "key")
	writeKey(t, e.keyFile, managedKey)
	ccfg := credential.Config{Credentials: []credential.Spec{{Name: "main", Kind: credential.KindAPIKey, File: e.keyFile}}}
	eng, err := policy.Compile([]byte(policySrc), policy.Options{})
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	u, _ := url.Parse(e.up.srv.URL)
	cfg := Config{Upstream: u, Policy: func() *policy.Engine { return eng }, Auditor: e.audit, InstallKey: []byte("install")}
	for _, o := range opts {
		o(&cfg, &ccfg)
	}
	if e.store, err = credential.NewStore(ccfg, nil); err != nil {
		t.Fatal(err)
	}
	cfg.Credentials = e.store
	if cfg.Masker != nil { // as internal/daemon wires it
		e.store.Subscribe(func(v []credential.Secret) { cfg.Masker.SetManaged(credential.Reveal(v)) })
	}
	if e.gw, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

func writeKey(t testing.TB, path, v string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(v+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// do sends a request through the gateway in-process.
func (e *env) do(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.gw.ServeHTTP(w, r)
	return w
}

func newRequest(method, target, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, "https://"+apiHost+target, rd)
	r.Header.Set("Anthropic-Version", "2023-06-01")
	r.Header.Set("Content-Type", "application/json")
	return withOrigin(r, &caller.Origin{})
}

// apiHost is the SNI of every test connection.
const apiHost = "api.anthropic.com"

// withOrigin attaches o, as the TLS server would, with the SNI the
// intercept layer peeked (apiHost unless o names one).
func withOrigin(r *http.Request, o *caller.Origin) *http.Request {
	if o.SNI == "" {
		o.SNI = apiHost
	}
	return r.WithContext(caller.NewContext(r.Context(), o))
}

const messagesBody = `{"model":"claude-sonnet-4-5","max_tokens":1024,  "messages":[{"role":"user","content":"hi"}]}`

type credentialConfig = credential.Config

// reset forgets recorded requests (benchmarks keep memory flat).
func (u *upstream) reset() {
	u.mu.Lock()
	u.requests = u.requests[:0]
	u.mu.Unlock()
}
