package tlsmitm

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestUpstreamProtocol(t *testing.T) {
	up, caFile := startUpstream(t, hashEcho())
	for proto, want := range map[string]string{"": "HTTP/2.0", ProtocolH2: "HTTP/2.0", ProtocolHTTP1: "HTTP/1.1"} {
		tr, err := NewUpstream(UpstreamConfig{Override: up.Listener.Addr().String(), ExtraCAFile: caFile, Protocol: proto})
		if err != nil {
			t.Fatal(err)
		}
		s := startServer(t, ForwardHandler(tr), nil)
		for range 3 { // keep-alive: later requests reuse the pooled connection
			resp, err := s.client(false).Post("https://"+testHost+"/v1/messages", "application/json", strings.NewReader(`{"a":1}`))
			if err != nil {
				t.Fatalf("protocol %q: %v", proto, err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.HasSuffix(string(got), " "+want) {
				t.Errorf("protocol %q: upstream answered %d %q, want a request over %s", proto, resp.StatusCode, got, want)
			}
		}
		tr.CloseIdleConnections()
	}
}

// A new upstream connection resumes the TLS session of an earlier one (an
// abbreviated handshake), for either protocol.
func TestUpstreamResumesSessions(t *testing.T) {
	up, caFile := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "resumed=%v", r.TLS.DidResume)
	}))
	for _, proto := range []string{ProtocolH2, ProtocolHTTP1} {
		tr, err := NewUpstream(UpstreamConfig{Override: up.Listener.Addr().String(), ExtraCAFile: caFile, Protocol: proto})
		if err != nil {
			t.Fatal(err)
		}
		client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		for i, want := range []string{"resumed=false", "resumed=true"} {
			resp, err := client.Get("https://" + testHost + "/v1/models")
			if err != nil {
				t.Fatalf("%s request %d: %v", proto, i, err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(got) != want {
				t.Errorf("%s request %d on a new connection: %q, want %q", proto, i, got, want)
			}
			tr.CloseIdleConnections() // the next request dials again
		}
	}
}
