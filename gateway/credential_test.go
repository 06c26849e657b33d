package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/policy/credential"
)

// Whatever credential headers the client sends, in whatever case and
// repetition, the upstream receives exactly the managed one.
func TestUpstreamReceivesOnlyManagedCredential(t *testing.T) {
	cases := []struct {
		name  string
		set   map[string][]string // raw header map keys, not canonicalised
		class string
	}{
		{"none", nil, "none"},
		{"x-api-key", map[string][]string{"X-Api-Key": {clientKey}}, "api_key"},
		{"lowercase raw key", map[string][]string{"x-api-key": {clientKey}}, "api_key"},
		{"upper raw key", map[string][]string{"X-API-KEY": {clientKey}}, "api_key"},
		{"repeated x-api-key", map[string][]string{"X-Api-Key": {clientKey, "other"}}, "api_key"},
		{"bearer oauth", map[string][]string{"Authorization": {"Bearer sk-ant-oat01-FAKE-token"}}, "oauth_token"},
		{"lower authorization", map[string][]string{"authorization": {"bearer sk-ant-admin01-FAKE"}}, "admin_key"},
		{"proxy-authorization", map[string][]string{"Proxy-Authorization": {"Basic dXNlcjpwYXNz"}}, "other"},
		{"all at once, mixed case", map[string][]string{"x-api-key": {"a"}, "X-Api-Key": {clientKey},
			"AUTHORIZATION": {"Bearer x", "Bearer y"}, "proxy-authorization": {"z"}}, "api_key"},
		{"empty value", map[string][]string{"X-Api-Key": {""}}, "other"},
	}
	for _, kind := range []credential.Kind{credential.KindAPIKey, credential.KindBearer} {
		e := newEnv(t, allowAll, nil, func(_ *Config, c *credentialConfig) { c.Credentials[0].Kind = kind })
		for _, tc := range cases {
			t.Run(string(kind)+"/"+tc.name, func(t *testing.T) {
				r := newRequest("POST", "/v1/messages", messagesBody)
				for k, vs := range tc.set {
					r.Header[k] = vs
				}
				if w := e.do(r); w.Code != 200 {
					t.Fatalf("status %d: %s", w.Code, w.Body)
				}
				assertOnlyManaged(t, e.up.last(t).Header, kind)
				rec, _ := e.audit.last(t)
				if rec.EmbeddedClass != tc.class {
					t.Errorf("embedded class %q, want %q", rec.EmbeddedClass, tc.class)
				}
				if (tc.class == "none") != (rec.EmbeddedFP == "") || strings.Contains(rec.EmbeddedFP, "sk-") {
					t.Errorf("fingerprint %q for class %s", rec.EmbeddedFP, tc.class)
				}
			})
		}
	}
}

func assertOnlyManaged(t *testing.T, h http.Header, kind credential.Kind) {
	t.Helper()
	var found []string
	for k, vs := range h {
		lk := strings.ToLower(k)
		if lk == "x-api-key" || lk == "authorization" || lk == "proxy-authorization" {
			for _, v := range vs {
				found = append(found, lk+": "+v)
			}
		}
	}
	want := "x-api-key: " + managedKey
	if kind == credential.KindBearer {
		want = "authorization: Bearer " + managedKey
	}
	if len(found) != 1 || found[0] != want {
		t.Errorf("upstream credential headers %q, want exactly [%q]", found, want)
	}
}

// The managed value never reaches the client, even when the upstream echoes
// it in a header, a JSON error or a stream.
func TestClientNeverSeesManagedValue(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("X-Api-Key")
		w.Header().Set("X-Echo", "key="+key)
		if r.URL.Path == "/v1/stream" {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Write([]byte("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"bad " + key + "\"}}\n\n"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		w.Write([]byte(`{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key ` + key + `"}}`))
	}
	for _, path := range []string{"/v1/messages", "/v1/stream", "/v1/other"} {
		e := newEnv(t, allowAll, echo)
		w := e.do(newRequest("POST", path, messagesBody))
		dump := w.Body.String()
		for k, vs := range w.Header() {
			dump += k + ": " + strings.Join(vs, ",") + "\n"
		}
		if strings.Contains(dump, managedKey) {
			t.Errorf("%s: managed value reached the client:\n%s", path, dump)
		}
		if !strings.Contains(dump, "[redacted]") {
			t.Errorf("%s: expected the echoed value to be redacted:\n%s", path, dump)
		}
	}
}
