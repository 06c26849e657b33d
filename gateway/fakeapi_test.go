package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/internal/fakeapi"
)

// Against the fake API, which authenticates exactly as the real one: every
// client credential form is replaced by the managed key, every scenario
// streams through, and the client never sees the managed value.
func TestAgainstFakeAPI(t *testing.T) {
	fake := fakeapi.New(fakeapi.Config{APIKeys: []string{managedKey}})
	e := newEnv(t, allowAll, fake.ServeHTTP, withMasker(t))
	forms := []map[string][]string{
		nil,
		{"X-Api-Key": {clientKey}},
		{"authorization": {"Bearer sk-ant-oat01-FAKE"}, "x-api-key": {"a", "b"}},
	}
	scenarios := []string{fakeapi.ScenarioText, fakeapi.ScenarioToolUse, fakeapi.ScenarioThinking,
		fakeapi.ScenarioCitations, fakeapi.ScenarioMidstreamErr}
	for _, form := range forms {
		for _, sc := range scenarios {
			for _, stream := range []string{"true", "false"} {
				body := `{"model":"claude-sonnet-4-5","max_tokens":64,"stream":` + stream + `,"messages":[{"role":"user","content":"hello"}]}`
				r := newRequest("POST", "/v1/messages?beta=true", body)
				r.Header.Set(fakeapi.HeaderScenario, sc)
				for k, v := range form {
					r.Header[k] = v
				}
				w := e.do(r)
				if w.Code == http.StatusUnauthorized {
					t.Fatalf("%s/%s: the fake API refused the credential: %s", sc, stream, w.Body)
				}
				if strings.Contains(w.Body.String(), managedKey) {
					t.Fatalf("%s: managed value reached the client", sc)
				}
				rec, _ := e.audit.last(t)
				if rec.UpstreamID == "" || rec.Status != w.Code {
					t.Errorf("%s/%s: record %+v", sc, stream, rec)
				}
				if sc == fakeapi.ScenarioText && (w.Code != 200 || rec.OutputTokens == 0 || rec.InputTokens == 0) {
					t.Errorf("%s/%s: status %d, usage %d/%d", sc, stream, w.Code, rec.InputTokens, rec.OutputTokens)
				}
			}
		}
	}
	for _, req := range fake.Requests() {
		if req.Header.Get("X-Api-Key") != managedKey || req.Header.Get("Authorization") != "" {
			t.Fatalf("fake API saw credentials %q / %q", req.Header.Get("X-Api-Key"), req.Header.Get("Authorization"))
		}
	}
}

// When the managed credential is wrong, the client gets the API's own 401,
// without the value.
func TestFakeAPIRejectsWrongManagedKey(t *testing.T) {
	fake := fakeapi.New(fakeapi.Config{APIKeys: []string{"sk-ant-api03-FAKE-some-other-key"}})
	e := newEnv(t, allowAll, fake.ServeHTTP)
	w := e.do(newRequest("POST", "/v1/messages", messagesBody))
	if w.Code != 401 || decodeError(t, w.Body.Bytes()).Error.Type != "authentication_error" || strings.Contains(w.Body.String(), managedKey) {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
}
