package gateway

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const trailerKey = "sk-ant-api03-FAKE-key-in-a-trailer-not-real"

// Issue 11, item 2: a chunked request whose trailer carries a key. The
// trailer never reaches the upstream, and the request is one upstream
// attempt: with an h2 upstream, Go's client used to get RST_STREAM over the
// trailer and replay the body through GetBody, turning one client request
// into thousands of upstream POSTs.
func TestTrailersNeverReachTheUpstreamAndOneRequestIsOneAttempt(t *testing.T) {
	for _, protocol := range []string{"h2", "http1"} {
		t.Run("upstream "+protocol, func(t *testing.T) {
			s := newStack(t, allowAll, nil, protocol)
			raw := "POST /v1/messages HTTP/1.1\r\nHost: " + apiHost + "\r\nContent-Type: application/json\r\n" +
				"Transfer-Encoding: chunked\r\nTrailer: Authorization, X-Api-Key\r\n\r\n" +
				fmt.Sprintf("%x\r\n%s\r\n0\r\nAuthorization: Bearer %s\r\nX-Api-Key: %[3]s\r\n\r\n", len(messagesBody), messagesBody, trailerKey)
			resp := s.sendRaw(t, raw)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			s.expectOneClean(t, "http1 chunked", 1)

			r, _ := http.NewRequest("POST", "https://"+apiHost+"/v1/messages", io.MultiReader(strings.NewReader(messagesBody)))
			r.Header.Set("Content-Type", "application/json")
			// Go's h2 server itself refuses an Authorization trailer; these pass.
			r.Trailer = http.Header{"X-Api-Key": {trailerKey}, "X-Leak": {trailerKey}}
			resp = s.send(t, "h2", r)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			s.expectOneClean(t, "h2 trailers", 2)
		})
	}
}

// expectOneClean waits (briefly: replays, if any, come at once) and checks
// that the upstream saw exactly want requests, none with the trailer's key.
func (s *stack) expectOneClean(t *testing.T, what string, want int) {
	t.Helper()
	time.Sleep(200 * time.Millisecond) // let a replay, if the transport makes one, arrive
	if n := s.up.count(); n != want {
		t.Fatalf("%s: the upstream received %d requests in all, want %d", what, n, want)
	}
	got := s.up.last(t)
	if len(got.Trailer) != 0 || got.Header.Get("Trailer") != "" {
		t.Fatalf("%s: the upstream received trailers %v (Trailer: %q)", what, got.Trailer, got.Header.Get("Trailer"))
	}
	if seen := fmt.Sprint(got.Header, got.Trailer, string(got.Body)); strings.Contains(seen, trailerKey) {
		t.Fatalf("%s: the trailer's key reached the upstream", what)
	}
	if got.Header.Get("X-Api-Key") != managedKey || got.Header.Get("Authorization") != "" {
		t.Fatalf("%s: upstream credentials %q / %q", what, got.Header.Get("X-Api-Key"), got.Header.Get("Authorization"))
	}
}
