package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/console"
)

// queue records decisions; it holds nothing.
type queue struct{ decided []string }

func (q *queue) List(context.Context) ([]console.Held, error) { return nil, nil }
func (q *queue) Approve(_ context.Context, id, by, _ string, _ time.Duration) error {
	q.decided = append(q.decided, "approve "+id+" by "+by)
	return nil
}
func (q *queue) Deny(_ context.Context, id, by, _ string) error {
	q.decided = append(q.decided, "deny "+id+" by "+by)
	return nil
}

// signedIn returns a console handler and a session cookie and CSRF token
// of a reviewer signed in with a one-time link.
func signedIn(t *testing.T, q console.Queue) (http.Handler, *http.Cookie, string) {
	t.Helper()
	return signedInTo(t, console.Config{Host: "h1"}, q, nil)
}

func signedInTo(t *testing.T, cfg console.Config, q console.Queue, src console.Source) (http.Handler, *http.Cookie, string) {
	t.Helper()
	s, err := console.New(cfg, q, src)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	link, _ := url.Parse(s.MintLink("uid:0(root)"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "https://console.test"+link.RequestURI(), nil))
	cookies := rec.Result().Cookies()
	if rec.Code != http.StatusSeeOther || len(cookies) != 1 {
		t.Fatalf("link sign-in: %d %v", rec.Code, cookies)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, withCookie(httptest.NewRequest("GET", "https://console.test/", nil), cookies[0]))
	_, after, _ := strings.Cut(rec.Body.String(), `name="csrf" value="`)
	token, _, _ := strings.Cut(after, `"`)
	if token == "" {
		t.Fatalf("no CSRF token on the page: %d", rec.Code)
	}
	// The link is single-use.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "https://console.test"+link.RequestURI(), nil))
	if rec.Code != http.StatusForbidden {
		t.Fatalf("a used link signed in again: %d", rec.Code)
	}
	return h, cookies[0], token
}

func withCookie(r *http.Request, c *http.Cookie) *http.Request { r.AddCookie(c); return r }

// Every state change needs the session, a same-origin request and the
// session's CSRF token; only then is the decision made, in the reviewer's name.
func TestStateChangesNeedSameOriginAndToken(t *testing.T) {
	q := &queue{}
	h, cookie, token := signedIn(t, q)
	cases := []struct {
		name   string
		form   string
		header map[string]string
		cookie bool
		want   int
	}{
		{"no session", "csrf=" + token, nil, false, http.StatusUnauthorized},
		{"no token", "", map[string]string{"Sec-Fetch-Site": "same-origin"}, true, http.StatusForbidden},
		{"wrong token", "csrf=guessed", map[string]string{"Sec-Fetch-Site": "same-origin"}, true, http.StatusForbidden},
		{"cross-site fetch", "csrf=" + token, map[string]string{"Sec-Fetch-Site": "cross-site"}, true, http.StatusForbidden},
		{"same-site other origin", "csrf=" + token, map[string]string{"Sec-Fetch-Site": "same-site"}, true, http.StatusForbidden},
		{"foreign Origin", "csrf=" + token, map[string]string{"Origin": "https://evil.test"}, true, http.StatusForbidden},
		{"same origin with token", "csrf=" + token, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "https://console.test"}, true, http.StatusSeeOther},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "https://console.test/approvals/a1/approve", strings.NewReader(tc.form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			if tc.cookie {
				r.AddCookie(cookie)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
		})
	}
	if len(q.decided) != 1 || q.decided[0] != "approve a1 by link:uid:0(root)" {
		t.Fatalf("decisions %q: only the same-origin request with its token may decide", q.decided)
	}
}

// Every page carries the strict CSP; the cookie is Secure, HttpOnly, Lax.
func TestHeadersAndCookie(t *testing.T) {
	h, cookie, _ := signedIn(t, &queue{})
	if !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || !strings.HasPrefix(cookie.Name, "__Host-") {
		t.Fatalf("session cookie %+v", cookie)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "https://console.test/login", nil))
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Fatalf("CSP %q", csp)
	}
}
