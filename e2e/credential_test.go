package e2e

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/internal/fakeapi"
)

// Credentials a careless client embeds; none may reach the upstream.
const (
	leakedKeyOne = "sk-ant-api03-FAKE-embedded-key-one"
	leakedKeyTwo = "sk-ant-api03-FAKE-embedded-key-two"
	leakedOAuth  = "sk-ant-oat01-FAKE-embedded-oauth-token"
	leakedAdmin  = "sk-ant-admin01-FAKE-embedded-admin-key"
	leakedOther  = "FAKE-some-other-embedded-token"
	leakedGoSDK  = "sk-ant-api03-FAKE-leaked-key-in-go-app" // e2e/testdata/gosdk's embedded key
)

// credPolicy denies curl when it asks for a marker beta (a rule on the
// caller that the other rows do not trigger); everything else is allowed.
const credPolicy = `
rules:
  - id: e2e-deny-curl
    when: 'caller.comm == "curl" && "e2e-deny-me" in request.betas'
    action: deny
    reason: curl may not use the e2e-deny-me beta
default:
  action: allow
  reason: e2e default
`

const plainMessage = `{"model":"claude-sonnet-4-5","max_tokens":32,"messages":[{"role":"user","content":"hello"}]}`

// credRow is one way a client may present (or not) credentials.
type credRow struct {
	name    string
	headers []string // credential headers curl sends, in this order and case
	class   string   // the embedded class the audit must record ("" = not checked)
	http1   bool     // HTTP/1.1 keeps the header names' case on the wire
}

var credRows = []credRow{
	{"none", nil, "none", false},
	{"x-api-key", []string{"x-api-key: " + leakedKeyOne}, "api_key", false},
	{"X-Api-Key", []string{"X-Api-Key: " + leakedKeyOne}, "api_key", true},
	{"X-API-KEY", []string{"X-API-KEY: " + leakedKeyOne}, "api_key", true},
	{"empty x-api-key", []string{"x-api-key;"}, "other", true},
	{"Authorization Bearer oauth", []string{"Authorization: Bearer " + leakedOAuth}, "oauth_token", false},
	{"AUTHORIZATION bearer key", []string{"AUTHORIZATION: bearer " + leakedKeyOne}, "api_key", true},
	{"Proxy-Authorization Basic", []string{"Proxy-Authorization: Basic " + leakedOther}, "other", true},
	{"proxy-authorization admin", []string{"proxy-authorization: Bearer " + leakedAdmin}, "admin_key", false},
	{"repeated x-api-key", []string{"x-api-key: " + leakedKeyOne, "X-Api-Key: " + leakedKeyTwo}, "api_key", true},
	{"repeated Authorization", []string{"Authorization: Bearer " + leakedKeyOne, "authorization: Bearer " + leakedKeyTwo}, "api_key", true},
	{"mixed h1", []string{"X-API-Key: " + leakedKeyOne, "Authorization: Bearer " + leakedOAuth,
		"Proxy-Authorization: Basic " + leakedOther, "x-api-key: " + leakedAdmin}, "", true},
	{"mixed h2", []string{"proxy-authorization: Basic " + leakedOther, "x-api-key: " + leakedKeyTwo,
		"authorization: Bearer " + leakedOAuth}, "", false},
	{"the managed key itself", []string{"x-api-key: " + ManagedKey}, "api_key", false},
}

var allLeaked = []string{leakedKeyOne, leakedKeyTwo, leakedOAuth, leakedAdmin, leakedOther, leakedGoSDK}

// TestCredE2E runs one daemon for the whole credential table and the
// pass-through, error and denial cases.
func TestCredE2E(t *testing.T) {
	h := Start(t, Options{Policy: credPolicy})
	for _, row := range credRows {
		t.Run("form/"+row.name, func(t *testing.T) { credRowCase(t, h, row) })
	}
	t.Run("form/go-sdk", func(t *testing.T) { credGoSDK(t, h) })
	t.Run("upstream-401", func(t *testing.T) { credUpstreamError(t, h) })
	t.Run("unknown-path-404", func(t *testing.T) { credUnknownPath(t, h) })
	t.Run("policy-denial", func(t *testing.T) { credDenial(t, h) })
	t.Run("headers-and-body-unchanged", func(t *testing.T) { credPassThrough(t, h) })
	t.Run("paths-outside-messages", func(t *testing.T) { credOtherPaths(t, h) })
}

func credRowCase(t *testing.T, h *Harness, row credRow) {
	h.Upstream.Reset()
	var args []string
	if row.http1 {
		args = append(args, "--http1.1")
	}
	r := curlReply(t, h, append(args, curlMessagesArgs(plainMessage, row.headers...)...)...)
	if r.Status != 200 || !strings.Contains(r.Body, `"type":"message"`) {
		t.Fatalf("status %d\n%s", r.Status, r.All)
	}
	assertOnlyManaged(t, h, 1)
	assertNoManagedKey(t, h, row.name, r)
	if rec := h.LastAudit(t); row.class != "" && rec.EmbeddedClass != row.class {
		t.Errorf("audit embedded_class %q, want %q", rec.EmbeddedClass, row.class)
	} else if rec.EmbeddedClass != "none" && len(rec.EmbeddedFP) == 0 {
		t.Errorf("audit record has no fingerprint for class %q", rec.EmbeddedClass)
	}
}

// credGoSDK: the official Go SDK sends its embedded key (as Authorization:
// Bearer in v2); the upstream sees only the managed one.
func credGoSDK(t *testing.T, h *Harness) {
	h.Upstream.Reset()
	res := h.GoSDK(t, "message", "hello from the go sdk")
	var out struct{ Text, Error string }
	if res.JSON(t, &out); res.Code != 0 || !strings.Contains(out.Text, "hello from the go sdk") {
		t.Fatalf("gosdk: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	assertOnlyManaged(t, h, 1)
	if strings.Contains(res.Stdout+res.Stderr, ManagedKey) {
		t.Errorf("the Go SDK client saw the managed credential")
	}
	if rec := h.LastAudit(t); rec.EmbeddedClass != "api_key" || rec.Caller.Comm != "gosdk" {
		t.Errorf("audit embedded_class %q caller %q, want api_key gosdk", rec.EmbeddedClass, rec.Caller.Comm)
	}
}

// assertOnlyManaged checks the upstream got n requests, each with exactly
// one credential header: x-api-key with the managed value.
func assertOnlyManaged(t *testing.T, h *Harness, n int) []fakeapi.Request {
	t.Helper()
	got := h.Upstream.Requests()
	if len(got) != n {
		t.Fatalf("upstream received %d requests, want %d", len(got), n)
	}
	for i, r := range got {
		if k := r.Header.Values("X-Api-Key"); len(k) != 1 || k[0] != ManagedKey {
			t.Errorf("request %d: upstream x-api-key values %q, want exactly the managed key", i, k)
		}
		for _, name := range []string{"Authorization", "Proxy-Authorization"} {
			if v := r.Header.Values(name); len(v) != 0 {
				t.Errorf("request %d: upstream got %s %q", i, name, v)
			}
		}
		for _, l := range allLeaked {
			if strings.Contains(headerText(r.Header), l) || strings.Contains(string(r.Body), l) {
				t.Errorf("request %d: the embedded credential %q reached the upstream", i, l)
			}
		}
	}
	return got
}

// credUpstreamError: the upstream answers 401; the error reaches the client
// in the API's shape and without the managed value.
func credUpstreamError(t *testing.T, h *Harness) {
	h.Upstream.Reset()
	r := curlReply(t, h, curlMessagesArgs(plainMessage, "x-api-key: "+leakedKeyOne,
		fakeapi.HeaderScenario+": error", fakeapi.HeaderStatus+": 401")...)
	if r.Status != 401 || apiErrorTypeOf(t, r.Body) != "authentication_error" {
		t.Fatalf("status %d\n%s", r.Status, r.All)
	}
	assertOnlyManaged(t, h, 1)
	assertNoManagedKey(t, h, "upstream 401", r)
}

func credUnknownPath(t *testing.T, h *Harness) {
	h.Upstream.Reset()
	r := curlReply(t, h, apiHostURL("/v1/no-such-endpoint"), "-H", "Authorization: Bearer "+leakedKeyOne)
	if r.Status != 404 || apiErrorTypeOf(t, r.Body) != "not_found_error" {
		t.Fatalf("status %d\n%s", r.Status, r.All)
	}
	assertOnlyManaged(t, h, 1)
	assertNoManagedKey(t, h, "upstream 404", r)
}

// apiErrorTypeOf decodes the API's error shape and returns error.type.
func apiErrorTypeOf(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Type  string `json:"type"`
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Type != "error" || e.Error.Message == "" {
		t.Fatalf("not an API error body (%v): %q", err, body)
	}
	return e.Error.Type
}

// credDenial: a rule on the caller denies; the answer is a non-retryable 403
// permission_error naming the rule, nothing reaches the upstream, and the
// audit record names the decision, the rule and the calling process.
func credDenial(t *testing.T, h *Harness) {
	h.Upstream.Reset()
	r := curlReply(t, h, curlMessagesArgs(plainMessage, "x-api-key: "+leakedKeyOne, "anthropic-beta: e2e-deny-me")...)
	if r.Status != 403 || apiErrorTypeOf(t, r.Body) != "permission_error" || !strings.Contains(r.Body, `\"e2e-deny-curl\"`) {
		t.Fatalf("status %d\n%s", r.Status, r.All)
	}
	if got := r.Header.Get("X-Should-Retry"); got != "false" {
		t.Errorf("x-should-retry %q on a policy denial, want false", got)
	}
	if n := len(h.Upstream.Requests()); n != 0 {
		t.Fatalf("a denied request reached the upstream (%d requests)", n)
	}
	assertNoManagedKey(t, h, "denial", r)
	rec := h.LastAudit(t)
	if rec.Decision != "deny" || rec.Rule != "e2e-deny-curl" || rec.Status != 403 {
		t.Errorf("audit decision %q rule %q status %d, want deny e2e-deny-curl 403", rec.Decision, rec.Rule, rec.Status)
	}
	if rec.Caller.PID != r.PID || rec.Caller.Comm != "curl" {
		t.Errorf("audit caller pid %d comm %q, want %d curl", rec.Caller.PID, rec.Caller.Comm, r.PID)
	}
}

// credPassThrough: API headers and unknown headers arrive unchanged and a body
// with odd whitespace and key order arrives byte for byte.
func credPassThrough(t *testing.T, h *Harness) {
	h.Upstream.Reset()
	body := "{ \"messages\" :[ {\"content\":\"nothing to mask here\",  \"role\":\"user\"} ],\n\t\"max_tokens\": 16 ,\"model\":\"claude-sonnet-4-5\",\"metadata\":{\"user_id\":\"e2e\"}  }\n"
	want := map[string][]string{
		"Anthropic-Version":             {"2023-06-01"},
		"Anthropic-Beta":                {"e2e-beta-one-2025-01-01", "e2e-beta-two,e2e-beta-three"},
		"X-Stainless-Lang":              {"go"},
		"X-Stainless-Package-Version":   {"9.9.9-e2e"},
		"X-Stainless-Retry-Count":       {"0"},
		"X-E2e-Unknown-Header":          {"Some Value; with=odd , bits"},
		"Anthropic-Dangerous-Direct-Ui": {"true"},
	}
	args := []string{"--http1.1", "-H", "x-api-key: " + leakedKeyOne}
	r := curlReply(t, h, append(args, curlMessagesArgs(body, "anthropic-beta: e2e-beta-one-2025-01-01",
		"anthropic-beta: e2e-beta-two,e2e-beta-three", "X-Stainless-Lang: go", "x-stainless-package-version: 9.9.9-e2e",
		"X-Stainless-Retry-Count: 0", "X-E2E-Unknown-Header: Some Value; with=odd , bits",
		"anthropic-dangerous-direct-ui: true")...)...)
	if r.Status != 200 {
		t.Fatalf("status %d\n%s", r.Status, r.All)
	}
	got := assertOnlyManaged(t, h, 1)[0]
	for name, vs := range want {
		if g := got.Header.Values(name); !slices.Equal(g, vs) {
			t.Errorf("upstream %s = %q, want %q", name, g, vs)
		}
	}
	if string(got.Body) != body {
		t.Errorf("body changed on the way:\nsent %q\ngot  %q", body, got.Body)
	}
}

// credOtherPaths: a path outside /v1/ and a query string pass through with
// the credential substituted.
func credOtherPaths(t *testing.T, h *Harness) {
	h.Upstream.Reset()
	r := curlReply(t, h, apiHostURL("/api/claude_code/settings"), "-H", "Authorization: Bearer "+leakedOAuth)
	if r.Status != 200 || strings.TrimSpace(r.Body) != "{}" {
		t.Fatalf("settings: status %d\n%s", r.Status, r.All)
	}
	if got := assertOnlyManaged(t, h, 1)[0]; got.URI != "/api/claude_code/settings" || got.Method != "GET" {
		t.Errorf("upstream got %s %s, want GET /api/claude_code/settings", got.Method, got.URI)
	}
	assertNoManagedKey(t, h, "settings", r)
	h.Upstream.Reset()
	r = curlReply(t, h, append([]string{apiHostURL("/v1/messages?beta=true")}, curlMessagesArgs(plainMessage, "x-api-key: "+leakedKeyOne)[1:]...)...)
	if r.Status != 200 {
		t.Fatalf("?beta=true: status %d\n%s", r.Status, r.All)
	}
	got := assertOnlyManaged(t, h, 1)[0]
	if got.URI != "/v1/messages?beta=true" || got.Method != "POST" {
		t.Errorf("upstream got %s %s, want POST /v1/messages?beta=true", got.Method, got.URI)
	}
	assertNoManagedKey(t, h, "other paths", r)
}

// The managed credential after the first (SIGHUP) and the second (file
// watch only) rotation.
const (
	rotatedKey = "sk-ant-api03-FAKE-rotated-managed-key"
	watchedKey = "sk-ant-api03-FAKE-rotated-by-file-watch"
)

// TestCredE2ERotation: while a stream is held in flight by the upstream, the
// key file is replaced and the daemon gets SIGHUP. New requests then carry
// the new key; the held stream completes intact on the old one. A second
// replacement without SIGHUP is picked up by the file watch alone.
func TestCredE2ERotation(t *testing.T) {
	up := startGatedUpstream(t, fakeapi.Config{APIKeys: []string{ManagedKey, rotatedKey, watchedKey}})
	h := Start(t, Options{Config: up.upstreamConfig()})
	held := make(chan Result, 1)
	go func() {
		held <- h.Run(t, "curl", "-sS", "-N", "--max-time", "50", apiHostURL("/v1/messages"),
			"-H", "x-api-key: "+leakedKeyOne, "-H", "anthropic-version: 2023-06-01", "-H", holdHeader+": 1",
			"--data-binary", `{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"a slow one"}]}`)
	}()
	select {
	case <-up.Started:
	case res := <-held:
		t.Fatalf("the held stream ended before the gate: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("the held stream never reached the upstream\n%s", h.Log())
	}
	replaceKeyFile(t, filepath.Join(h.Dir, "managed.key"), rotatedKey+"\n")
	h.Signal(t, syscall.SIGHUP)
	waitForKey(t, h, up, rotatedKey)
	select {
	case res := <-held:
		t.Fatalf("the held stream ended while the gate was closed: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	default:
	}
	up.Release()
	res := <-held
	if res.Code != 0 {
		t.Fatalf("held stream: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	if text := sseTextOf(t, res.Stdout); text != "Hello! You said: a slow one" {
		t.Errorf("held stream spelled %q", text)
	}
	reqs := up.Requests()
	if k := reqs[0].Header.Values("X-Api-Key"); reqs[0].Header.Get(holdHeader) == "" || len(k) != 1 || k[0] != ManagedKey {
		t.Errorf("the held request reached the upstream with x-api-key %q, want the old managed key", k)
	}
	replaceKeyFile(t, filepath.Join(h.Dir, "managed.key"), watchedKey+"\n")
	waitForKey(t, h, up, watchedKey)
	for _, k := range []string{ManagedKey, rotatedKey, watchedKey} {
		if strings.Contains(res.Stdout+res.Stderr, k) || h.LogContains(k) {
			t.Errorf("a managed key was shown to the client or logged")
		}
	}
}

// waitForKey sends requests until one reaches the upstream with key (the
// reload is asynchronous to SIGHUP), then checks the next one does too. Each
// request gets a 200: the upstream accepts the old and the new key.
func waitForKey(t *testing.T, h *Harness, up *gatedUpstream, key string) {
	t.Helper()
	send := func() string {
		res := h.Run(t, "curl", "-sS", "-f", "--max-time", "30", apiHostURL("/v1/messages"), "-H", "x-api-key: "+leakedKeyTwo,
			"-H", "anthropic-version: 2023-06-01", "--data-binary", plainMessage)
		if res.Code != 0 {
			t.Fatalf("request during rotation: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
		}
		reqs := up.Requests()
		return reqs[len(reqs)-1].Header.Get("X-Api-Key")
	}
	for range 100 {
		if send() == key {
			if got := send(); got != key {
				t.Fatalf("after the new key was used once, a later request used another one")
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no request used the rotated key after 100 tries\n%s", h.Log())
}
