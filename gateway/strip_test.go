package gateway

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Issue 11, item 10: credentials outside the stripped headers (the query
// string, Cookie, other APIs' key headers, any header whose value is
// credential-shaped, the session id) reach neither the upstream nor the
// audit verbatim.
func TestCredentialsOutsideTheStrippedHeaders(t *testing.T) {
	const (
		queryKey   = "sk-ant-api03-FAKEqueryKEYnotREAL0000"
		cookieKey  = "sk-ant-api03-FAKEcookieKEYnotREAL000"
		otherKey   = "sk-ant-api03-FAKEotherHEADERnotREAL0"
		googKey    = "AIzaFAKEgoogleKEYnotREAL0000000000000"
		customKey  = "sk-ant-oat01-FAKEcustomHEADERnotREAL"
		sessionKey = "sk-ant-api03-FAKEsessionIDnotREAL000"
		awsKey     = "AKIAIOSFODNN7EXAMPLE"
	)
	e := newEnv(t, allowAll, nil)
	r := newRequest("POST", "/v1/messages?beta=true&api_key="+queryKey+"&key="+googKey+"&note="+awsKey, messagesBody)
	r.Header.Set("Cookie", "session="+cookieKey)
	r.Header.Set("Anthropic-Api-Key", otherKey)
	r.Header.Set("Api-Key", otherKey)
	r.Header.Set("X-Goog-Api-Key", googKey)
	r.Header.Set("X-Custom-Auth", "Bearer "+customKey)
	r.Header.Set("X-Claude-Code-Session-Id", sessionKey)
	if w := e.do(r); w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	got := e.up.last(t)
	if got.URI != "/v1/messages?beta=true" {
		t.Errorf("upstream URI %q", got.URI)
	}
	rec, _ := e.audit.last(t)
	audited, _ := json.Marshal(rec)
	upstream := got.URI + fmt.Sprint(got.Header) + string(got.Body)
	for _, k := range []string{queryKey, cookieKey, otherKey, googKey, customKey, sessionKey, awsKey} {
		if strings.Contains(upstream, k) {
			t.Errorf("%s reached the upstream: %s", k, upstream)
		}
		if strings.Contains(string(audited), k) {
			t.Errorf("%s reached the audit record", k)
		}
	}
	if got.Header.Get("X-Api-Key") != managedKey || rec.SessionID == "" || rec.EmbeddedClass != "api_key" {
		t.Errorf("managed %q, session %q, embedded %q", got.Header.Get("X-Api-Key"), rec.SessionID, rec.EmbeddedClass)
	}
}
