package e2e

import (
	"strconv"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/audit"
)

// advPolicy holds Sonnet for approval (the hold times out: approvals.timeout
// below), caps everything else to Haiku and 4096 tokens, and masks.
const advPolicy = `rules:
  - id: adv-hold
    when: request.model == "claude-sonnet-4-0"
    action: require_approval
    reason: held by the adversarial suite
  - id: adv-caps
    when: "true"
    action: allow
    models: ["claude-haiku-*", "claude-sonnet-4-5"]
    max_tokens: 4096
default: {action: allow}
`

const advConfig = "approvals:\n  timeout: 2s\n"

// TestAdversarialRequest attacks the gateway's request path (issue 11 items
// 1, 2, 3, 5, 10) against one daemon with an h2 upstream.
func TestAdversarialRequest(t *testing.T) {
	w := startWorld(t, advOptions{Policy: advPolicy, Config: advConfig})
	t.Run("steer-host", func(t *testing.T) { advSteerH1(t, w, "Host: "+w.attacker.Addr(), "POST /v1/messages HTTP/1.1") })
	t.Run("steer-host-name", func(t *testing.T) {
		advSteerH1(t, w, "Host: "+attackerHost+":"+portOf(w.attacker.Addr()), "POST /v1/messages HTTP/1.1")
	})
	t.Run("steer-absolute-uri", func(t *testing.T) {
		advSteerH1(t, w, "Host: "+APIHost, "POST https://"+attackerHost+":"+portOf(w.attacker.Addr())+"/v1/messages HTTP/1.1")
	})
	t.Run("steer-port-scan", func(t *testing.T) { advSteerH1(t, w, "Host: 127.0.0.1:1", "POST /v1/messages HTTP/1.1") })
	t.Run("steer-authority-h2", func(t *testing.T) { advSteerH2(t, w) })
	t.Run("trailer-h2-upstream", func(t *testing.T) { advTrailer(t, w) })
	for _, ct := range []string{"application/json", "text/plain", "application/x-www-form-urlencoded", "application/json,text/plain"} {
		t.Run("content-type/"+strings.ReplaceAll(ct, "/", "_"), func(t *testing.T) { advContentType(t, w, ct) })
	}
	t.Run("duplicate-keys", func(t *testing.T) { advDuplicateKeys(t, w) })
	t.Run("credential-elsewhere", func(t *testing.T) { advCredentialElsewhere(t, w) })
}

// TestAdversarialTrailerHTTP1 is the trailer attack with an HTTP/1.1 upstream,
// where the trailer itself could be forwarded.
func TestAdversarialTrailerHTTP1(t *testing.T) {
	w := startWorld(t, advOptions{Protocol: "http1"})
	advTrailer(t, w)
}

// TestAdversarialDeepNesting has a daemon of its own: before issue 11 the
// attack killed it.
func TestAdversarialDeepNesting(t *testing.T) {
	advDeepNesting(t, startWorld(t, advOptions{}))
}

func portOf(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }

func statusIs(code int) func(audit.Record) bool {
	return func(r audit.Record) bool { return r.Status == code }
}

// advSteerH1: SNI api.anthropic.com, but Host or the request target names
// another origin: 421 invalid_request_error, and nothing goes there.
func advSteerH1(t *testing.T, w *advWorld, host, requestLine string) {
	m := w.mark(t)
	head := append([]string{host}, apiHead(APIHost)[1:]...)
	req := tempFile(t, "req", rawRequest(requestLine, plainMessage, head...))
	res := w.hostile(t, nil, "raw", "-req", req)
	if res.Status != 421 || apiErrorType(res.Body) != "invalid_request_error" {
		t.Errorf("got %d %q (%s), want 421 invalid_request_error", res.Status, res.Body, res.Error)
	}
	if strings.Contains(res.Body, "refused") || strings.Contains(res.Body, ManagedKey) {
		t.Errorf("the answer tells the attacker about the target: %q", res.Body)
	}
	w.after(t, m, statusIs(421))
}

// advSteerH2: the same over HTTP/2 with :authority naming the attacker.
func advSteerH2(t *testing.T, w *advWorld) {
	m := w.mark(t)
	body := tempFile(t, "body", plainMessage)
	res := w.hostile(t, nil, "h2", "-authority", attackerHost+":"+portOf(w.attacker.Addr()), "-body", body,
		"-H", "x-api-key: "+advEmbeddedKey, "-H", "anthropic-version: 2023-06-01", "-H", "content-type: application/json")
	if res.Notes["proto"] != "HTTP/2.0" {
		t.Errorf("the exchange was %q, not HTTP/2 (%s)", res.Notes["proto"], res.Error)
	}
	if res.Status != 421 || apiErrorType(res.Body) != "invalid_request_error" {
		t.Errorf("got %d %q (%s), want 421 invalid_request_error", res.Status, res.Body, res.Error)
	}
	w.after(t, m, statusIs(421))
}

// advTrailer: a chunked POST announcing Trailer: Authorization and sending
// one with a key. The upstream gets at most one attempt, without the trailer.
func advTrailer(t *testing.T, w *advWorld) {
	m := w.mark(t)
	chunk := plainMessage
	body := strconv.FormatInt(int64(len(chunk)), 16) + "\r\n" + chunk + "\r\n0\r\nAuthorization: Bearer " + advTrailerKey + "\r\n\r\n"
	head := append(apiHead(APIHost), "Transfer-Encoding: chunked", "Trailer: Authorization")
	req := tempFile(t, "req", rawRequest("POST /v1/messages HTTP/1.1", body, head...))
	res := w.hostile(t, nil, "raw", "-req", req, "-timeout", "15s")
	if n := w.up.count() - m.up; n > 1 || (n == 0 && res.Status/100 == 2) {
		t.Errorf("one client request became %d upstream requests (client got %d %s)", n, res.Status, res.Error)
	}
	w.after(t, m, func(r audit.Record) bool { return r.Path == "/v1/messages" })
}

// advDeepNesting: 10 MB of '[' after {"a": — under the body limit — is a
// 400, and the daemon survives it.
func advDeepNesting(t *testing.T, w *advWorld) {
	m := w.mark(t)
	body := `{"a":` + strings.Repeat("[", 10<<20)
	req := tempFile(t, "req", rawRequest("POST /v1/messages HTTP/1.1", body, apiHead(APIHost)...))
	res := w.hostile(t, nil, "raw", "-req", req, "-timeout", "60s")
	if res.Status != 400 || apiErrorType(res.Body) != "invalid_request_error" {
		t.Errorf("got %d %q (%s), want 400 invalid_request_error", res.Status, tail(res.Body, 300), res.Error)
	}
	w.after(t, m, statusIs(400))
}

// advContentType: the same bodies under another Content-Type are capped,
// held and masked exactly as application/json is.
func advContentType(t *testing.T, w *advWorld, ct string) {
	send := func(body string) hostileResult {
		head := append(apiHead(APIHost)[:3], "content-type: "+ct, "Connection: close")
		return w.hostile(t, nil, "raw", "-req", tempFile(t, "req", rawRequest("POST /v1/messages HTTP/1.1", body, head...)))
	}
	secrets := `"messages":[{"role":"user","content":"deploy with ` + advAWSKey + ` and ` + advGitHubToken + `"}]}`
	m := w.mark(t)
	if res := send(`{"model":"claude-opus-4-1","max_tokens":99999,` + secrets); res.Status != 403 || apiErrorType(res.Body) != "permission_error" {
		t.Errorf("capped: got %d %q, want 403 permission_error (the adv-caps rule)", res.Status, res.Body)
	}
	if n := w.up.count() - m.up; n != 0 {
		t.Errorf("capped: %d request(s) reached the upstream", n)
	}
	w.after(t, m, func(r audit.Record) bool { return r.Decision == "deny" && r.Rule == "adv-caps" })
	m = w.mark(t)
	if res := send(`{"model":"claude-sonnet-4-0","max_tokens":64,` + secrets); res.Status != 403 {
		t.Errorf("held: got %d %q, want 403 after the hold timed out", res.Status, res.Body)
	}
	w.after(t, m, func(r audit.Record) bool { return r.Rule == "adv-hold" && r.Decision == "approval_timeout" })
	m = w.mark(t)
	if res := send(`{"model":"claude-haiku-4-5","max_tokens":64,` + secrets); res.Status != 200 {
		t.Errorf("masked: got %d %q, want 200", res.Status, res.Body)
	}
	if got := w.up.since(m.up); len(got) != 1 || !strings.Contains(string(got[0].Body), "[REDACTED:") {
		t.Errorf("masked: the upstream got %d request(s), want one with placeholders", len(got))
	}
	w.after(t, m, func(r audit.Record) bool { return r.Masked["aws_access_key_id"] > 0 && r.Masked["github_token"] > 0 })
}

// advDuplicateKeys: a body whose second "model" differs from the first is
// refused, not decided on one value and forwarded with both.
func advDuplicateKeys(t *testing.T, w *advWorld) {
	m := w.mark(t)
	body := `{"model":"claude-haiku-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}],"model":"claude-opus-4-1"}`
	res := w.hostile(t, nil, "raw", "-req", tempFile(t, "req", rawRequest("POST /v1/messages HTTP/1.1", body, apiHead(APIHost)...)))
	if res.Status != 400 || apiErrorType(res.Body) != "invalid_request_error" {
		t.Errorf("got %d %q, want 400 invalid_request_error", res.Status, res.Body)
	}
	if n := w.up.count() - m.up; n != 0 {
		t.Errorf("%d request(s) with duplicate keys reached the upstream", n)
	}
	w.after(t, m, statusIs(400))
}

// advCredentialElsewhere: credentials in the query, a cookie, other API-key
// headers and the session-id header never reach the upstream verbatim, and
// the session id is masked in the audit and the sessions list.
func advCredentialElsewhere(t *testing.T, w *advWorld) {
	m := w.mark(t)
	head := append(apiHead(APIHost), "Cookie: session="+advCookieKey, "Anthropic-Api-Key: "+advHeaderKey,
		"Api-Key: "+advHeaderKey, "X-Goog-Api-Key: "+advGoogleKey, "X-Claude-Code-Session-Id: "+advSessionKey)
	req := tempFile(t, "req", rawRequest("POST /v1/messages?beta=true&api_key="+advQueryKey+" HTTP/1.1", plainMessage, head...))
	res := w.hostile(t, nil, "raw", "-req", req)
	if res.Status == 0 {
		t.Fatalf("no answer: %s", res.Error)
	}
	recs := w.newRecords(t, m)
	for _, r := range recs {
		if strings.Contains(r.SessionID, "FAKE") || strings.Contains(r.Path, advQueryKey) {
			t.Errorf("audit record %d keeps a credential: session %q path %q", r.ID, r.SessionID, r.Path)
		}
	}
	if out := w.h.Airlock(t, "sessions", "list", "--json"); strings.Contains(out.Stdout, advSessionKey) {
		t.Errorf("airlock sessions list shows the key sent as a session id")
	}
	w.after(t, m, func(r audit.Record) bool { return r.Path == "/v1/messages" })
}
