package gateway

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/policy/credential"
)

// A request in flight when the credential rotates completes with the old
// value; requests after the reload use the new one.
func TestRotationKeepsInFlightCredential(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan string, 2)
	h := func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.Header.Get("X-Api-Key")
		if r.URL.Path == "/v1/slow" {
			<-release
		}
		okJSON(w, r)
	}
	e := newEnv(t, allowAll, h)
	var wg sync.WaitGroup
	var slowCode int
	wg.Add(1)
	go func() {
		defer wg.Done()
		slowCode = e.do(newRequest("POST", "/v1/slow", messagesBody)).Code
	}()
	if got := waitFor(t, arrived); got != managedKey {
		t.Fatalf("in-flight request sent %q", got)
	}
	writeKey(t, e.keyFile, managedKey2)
	if err := e.store.Reload(); err != nil {
		t.Fatal(err)
	}
	if w := e.do(newRequest("POST", "/v1/messages", messagesBody)); w.Code != 200 {
		t.Fatalf("new request: %d", w.Code)
	}
	if got := waitFor(t, arrived); got != managedKey2 {
		t.Errorf("request after rotation sent the old credential")
	}
	close(release)
	wg.Wait()
	if slowCode != 200 {
		t.Errorf("in-flight request finished with %d", slowCode)
	}
}

func waitFor(t *testing.T, ch chan string) string {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second): // hang guard only
		t.Fatal("upstream never received the request")
		return ""
	}
}

// A helper command that fails or hangs gives a bounded 503-class API error.
func TestHelperFailureAnswers503(t *testing.T) {
	cases := map[string][]string{
		"fails":        {"sh", "-c", "echo oops >&2; exit 3"},
		"hangs":        {"sleep", "30"},
		"prints empty": {"true"},
	}
	for name, argv := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, allowAll, nil, func(_ *Config, c *credentialConfig) {
				c.Credentials = []credential.Spec{{Name: "helper", Kind: credential.KindAPIKey, Command: argv, Timeout: 300 * time.Millisecond}}
			})
			w := e.do(newRequest("POST", "/v1/messages", messagesBody))
			if w.Code != 503 || decodeError(t, w.Body.Bytes()).Error.Type != "api_error" {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if e.up.count() != 0 {
				t.Error("request forwarded without a managed credential")
			}
			if rec, _ := e.audit.last(t); rec.Decision != "error" || rec.Status != 503 {
				t.Errorf("record %+v", rec)
			}
		})
	}
}

func TestHelperOutputIsUsed(t *testing.T) {
	e := newEnv(t, allowAll, nil, func(_ *Config, c *credentialConfig) {
		c.Credentials = []credential.Spec{{Name: "helper", Kind: credential.KindBearer, Command: []string{"echo", managedKey}}}
	})
	if w := e.do(newRequest("POST", "/v1/messages", messagesBody)); w.Code != 200 {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	assertOnlyManaged(t, e.up.last(t).Header, credential.KindBearer)
}
