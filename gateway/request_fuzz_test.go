package gateway

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/caller"
)

// FuzzRequestPath drives the handler with arbitrary hosts, paths, headers,
// content types and bodies against a recording fake upstream: it never
// panics or hangs, every request is answered, a request naming another host
// never leaves, and what does leave carries only the managed key and none
// of the fuzzed credential.
func FuzzRequestPath(f *testing.F) {
	f.Add("POST", apiHost, "/v1/messages", "X-Api-Key", clientKey, "application/json", []byte(messagesBody))
	f.Add("POST", "evil.example", "/v1/messages?api_key="+clientKey, "Cookie", "a=b", "text/plain", []byte(`{"a":[[[`))
	f.Add("GET", apiHost+":443", "/v1/models", "Authorization", "Bearer "+clientKey, "", []byte(nil))
	f.Add("POST", apiHost, "/v1/messages", "X-Custom", clientKey, "text/plain", []byte(`{"model":"a","model":"b"}`))
	e := newEnv(f, allowAll, nil, withMasker(f))
	f.Fuzz(func(t *testing.T, method, host, target, hname, hvalue, ct string, body []byte) {
		r, ok := fuzzedRequest(method, host, target, body)
		if !ok {
			return
		}
		if hname != "" && !strings.ContainsAny(hname, ":\r\n ") {
			r.Header.Set(hname, hvalue)
		}
		r.Header.Set("X-Api-Key", clientKey)
		withContentType(r, ct)
		before := e.up.count()
		w := httptest.NewRecorder()
		e.gw.ServeHTTP(w, r)
		if w.Code == 0 || strings.Contains(w.Body.String(), managedKey) {
			t.Fatalf("status %d, or the managed key in the answer", w.Code)
		}
		if e.up.count() == before {
			return
		}
		got := e.up.last(t)
		if normalizeHost(host) != apiHost && host != "" {
			t.Fatalf("Host %q was forwarded (status %d)", host, w.Code)
		}
		if got.Header.Get("X-Api-Key") != managedKey || len(got.Header.Values("X-Api-Key")) != 1 ||
			strings.Contains(got.URI+got.Header.Get("Cookie"), clientKey) {
			t.Fatalf("upstream saw %s %v", got.URI, got.Header)
		}
		e.up.reset()
	})
}

// fuzzedRequest builds what net/http's server could hand the gateway.
func fuzzedRequest(method, host, target string, body []byte) (*http.Request, bool) {
	u, err := url.ParseRequestURI(target)
	if err != nil || method == "" || strings.ContainsAny(method+host, " \r\n\t") || !validMethod(method) {
		return nil, false
	}
	r, err := http.NewRequest(method, "http://placeholder", bytes.NewReader(body))
	if err != nil {
		return nil, false
	}
	r.URL, r.Host, r.RequestURI = u, host, target
	return withOrigin(r, &caller.Origin{}), true
}

func validMethod(m string) bool {
	for _, c := range m {
		if c < '!' || c > '~' || strings.ContainsRune("()<>@,;:\\\"/[]?={}", c) {
			return false
		}
	}
	return true
}
