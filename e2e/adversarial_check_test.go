package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/internal/poll"
)

// Fake credentials the hostile client embeds; none may reach the upstream,
// the attacker, or an audit record.
const (
	advEmbeddedKey = "sk-ant-api03-FAKE-hostile-embedded-key"
	advTrailerKey  = "sk-ant-api03-FAKE-hostile-trailer-key"
	advQueryKey    = "sk-ant-api03-FAKE-hostile-query-key"
	advCookieKey   = "sk-ant-api03-FAKE-hostile-cookie-key"
	advHeaderKey   = "sk-ant-api03-FAKE-hostile-header-key"
	advGoogleKey   = "AIzaFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAK"
	advSessionKey  = "sk-ant-api03-FAKE-hostile-session-key"
	advAWSKey      = "AKIAFAKEFAKEFAKEFAKE"
	advGitHubToken = "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000"
)

var advFakes = []string{advEmbeddedKey, advTrailerKey, advQueryKey, advCookieKey, advHeaderKey, advGoogleKey,
	advSessionKey, advAWSKey, advGitHubToken}

// advMark is the state of every recorder and the audit before an attack.
type advMark struct {
	auditID int64
	up, ud  int
	plain   int                  // bytes the attacker had decrypted
	rec     map[*recorder][2]int // connections and bytes each recorder had
}

func (w *advWorld) mark(t *testing.T) advMark {
	t.Helper()
	m := advMark{up: w.up.count(), ud: len(w.udp.seen()), rec: map[*recorder][2]int{}}
	for _, r := range []*recorder{w.attacker, w.direct, w.alt} {
		n, b := r.seen()
		m.rec[r] = [2]int{n, len(b)}
	}
	m.plain = len(w.attacker.decrypted())
	for _, r := range w.auditAll(t) {
		m.auditID = max(m.auditID, r.ID)
	}
	return m
}

// after asserts the suite's four invariants for the attack since m: (a)
// nothing reached the attacker or a direct destination, (b) the upstream saw
// only the managed key and only audited requests, (d) a new audit record
// satisfies audited (nil: no record required, for refusals in the kernel),
// and then (c) the daemon is alive and serves a normal request.
func (w *advWorld) after(t *testing.T, m advMark, audited func(audit.Record) bool) {
	t.Helper()
	w.checkNothingLeaked(t, m)
	recs := w.awaitRecords(t, m, audited)
	w.checkUpstream(t, m, recs)
	if audited != nil && !slices.ContainsFunc(recs, audited) {
		t.Errorf("no audit record for the attempt among %d new records:\n%s", len(recs), recordsText(recs))
	}
	w.checkAlive(t)
}

func (w *advWorld) checkNothingLeaked(t *testing.T, m advMark) {
	t.Helper()
	for _, r := range []struct {
		name string
		rec  *recorder
	}{{"the attacker host", w.attacker}, {"the direct destination :443", w.direct}, {"the direct destination :8443", w.alt}} {
		from := m.rec[r.rec]
		if n, b := r.rec.seen(); n > from[0] {
			b = b[from[1]:]
			t.Errorf("%s received %d connection(s) and %d bytes; the first 120: %q",
				r.name, n-from[0], len(b), b[:min(len(b), 120)])
		}
	}
	if plain := w.attacker.decrypted(); len(plain) > m.plain {
		plain = plain[m.plain:]
		t.Errorf("the attacker decrypted requests (the managed key among them: %v):\n%s",
			strings.Contains(plain, ManagedKey), strings.ReplaceAll(plain, ManagedKey, "<THE MANAGED KEY>"))
	}
	if g := w.udp.seen(); len(g) > m.ud {
		t.Errorf("the direct destination 443/udp received %d datagram(s): %q", len(g)-m.ud, g[m.ud:])
	}
}

// awaitRecords returns the records since m once one satisfies audited and
// every upstream request has its record: a record is written when the
// exchange ends, a moment after the client saw the end (bounded wait).
func (w *advWorld) awaitRecords(t *testing.T, m advMark, audited func(audit.Record) bool) []audit.Record {
	t.Helper()
	var recs []audit.Record
	_ = poll.Until(context.Background(), 10*time.Second, func() (bool, error) { // on timeout the caller judges what came
		recs = w.newRecords(t, m)
		done := audited == nil || slices.ContainsFunc(recs, audited)
		return done && len(recs) >= w.up.count()-m.up, nil
	})
	return recs
}

func (w *advWorld) newRecords(t *testing.T, m advMark) []audit.Record {
	t.Helper()
	var out []audit.Record
	for _, r := range w.auditAll(t) {
		if r.ID > m.auditID {
			out = append(out, r)
		}
	}
	return out
}

// checkUpstream: every upstream request since m went to the API host with
// exactly the managed key, no trailer, no embedded secret, and matches an
// audit record (by the upstream's request id).
func (w *advWorld) checkUpstream(t *testing.T, m advMark, recs []audit.Record) {
	t.Helper()
	got := w.up.since(m.up)
	ungoverned := 0
	for i, r := range got {
		if i >= 5 { // a storm is reported by its size below
			break
		}
		if r.Host != APIHost {
			t.Errorf("upstream request %d: Host/:authority %q, want %q", i, r.Host, APIHost)
		}
		if k := r.Header.Values("X-Api-Key"); len(k) != 1 || k[0] != ManagedKey {
			t.Errorf("upstream request %d: x-api-key %q, want only the managed key", i, k)
		}
		if a := r.Header.Values("Authorization"); len(a) != 0 {
			t.Errorf("upstream request %d: Authorization %q", i, a)
		}
		if len(r.Trailer) != 0 {
			t.Errorf("upstream request %d: trailers %q reached the upstream", i, r.Trailer)
		}
		text := r.URI + "\n" + headerText(r.Header) + headerText(r.Trailer) + string(r.Body)
		for _, f := range advFakes {
			if strings.Contains(text, f) {
				t.Errorf("upstream request %d: the embedded value %q reached the upstream", i, f)
			}
		}
	}
	for _, r := range got {
		if !slices.ContainsFunc(recs, func(a audit.Record) bool { return a.UpstreamID == r.ReqID }) {
			ungoverned++
		}
	}
	if ungoverned > 0 {
		t.Errorf("%d of %d upstream request(s) have no audit record (ungoverned)", ungoverned, len(got))
	}
}

// checkAlive: the process has not exited and a normal request succeeds.
func (w *advWorld) checkAlive(t *testing.T) {
	t.Helper()
	if w.h.daemon == nil {
		t.Fatal("airlockd is not running")
	}
	select {
	case <-w.h.daemon.exited:
		t.Fatalf("airlockd exited: %v\n%s", w.h.daemon.err, tail(w.h.Log(), 3000))
	default:
	}
	before := w.up.count()
	res := w.h.Run(t, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "30",
		apiHostURL("/v1/messages"), "-H", "x-api-key: "+advEmbeddedKey, "-H", "anthropic-version: 2023-06-01",
		"-H", "content-type: application/json", "--data-binary", plainMessage)
	if res.Stdout != "200" || w.up.count() != before+1 {
		t.Fatalf("after the attack a normal request got %q (exit %d, %s); upstream +%d\n%s",
			res.Stdout, res.Code, res.Stderr, w.up.count()-before, tail(w.h.Log(), 3000))
	}
}

func tail(s string, n int) string { return s[max(0, len(s)-n):] }

func recordsText(recs []audit.Record) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "  id=%d sni=%q %s %s status=%d decision=%s rule=%s reason=%q caller=%s/%s\n",
			r.ID, r.SNI, r.Method, r.Path, r.Status, r.Decision, r.Rule, r.Reason, r.Caller.Comm, r.Caller.Exe)
	}
	return b.String()
}

// hostileResult is what e2e/testdata/hostile prints.
type hostileResult struct {
	Status    int                 `json:"status"`
	Header    map[string][]string `json:"header"`
	Body      string              `json:"body"`
	Error     string              `json:"error"`
	ElapsedMS int64               `json:"elapsed_ms"`
	Sent      int                 `json:"sent"`
	Results   []hostileResult     `json:"results"`
	Notes     map[string]string   `json:"notes"`
}

// hostile runs the hostile client in the capture sandbox (prefix: a command
// it runs under, e.g. setpriv) and decodes its answer.
func (w *advWorld) hostile(t *testing.T, prefix []string, mode string, args ...string) hostileResult {
	t.Helper()
	argv := append(append(append([]string(nil), prefix...), hostileBin(t), mode), args...)
	return decodeHostile(t, w.h.Run(t, argv[0], argv[1:]...))
}

func decodeHostile(t *testing.T, res Result) hostileResult {
	t.Helper()
	var out hostileResult
	if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &out) != nil {
		t.Fatalf("hostile client: exit %d\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
	return out
}

// rawRequest is an HTTP/1.1 request as bytes: head lines as given, then
// Content-Length (unless a Transfer-Encoding line is given) and the body.
func rawRequest(requestLine string, body string, head ...string) string {
	var b strings.Builder
	b.WriteString(requestLine + "\r\n")
	chunked := false
	for _, h := range head {
		chunked = chunked || strings.HasPrefix(strings.ToLower(h), "transfer-encoding:")
		b.WriteString(h + "\r\n")
	}
	if !chunked {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n" + body)
	return b.String()
}

// apiHead are the usual headers of a Messages request with an embedded key.
func apiHead(host string) []string {
	return []string{"Host: " + host, "x-api-key: " + advEmbeddedKey, "anthropic-version: 2023-06-01",
		"content-type: application/json", "Connection: close"}
}

// tempFile writes data to a file the sandboxed client can read.
func tempFile(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	writeFile(t, p, data, 0o644)
	return p
}

// apiErrorType is error.type of an API error body, "" when it is not one.
func apiErrorType(body string) string {
	var e struct {
		Type  string `json:"type"`
		Error struct {
			Type string `json:"type"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(body), &e) != nil || e.Type != "error" {
		return ""
	}
	return e.Error.Type
}
