package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkGatewayJSON measures the whole in-process path for a
// non-streamed Messages request: strip, parse, decide, substitute, forward to
// an httptest upstream over loopback, read the response, audit.
func BenchmarkGatewayJSON(b *testing.B) {
	benchGateway(b, nil, messagesBody)
}

// BenchmarkGatewaySSE is the same for a streamed response of 7 events.
func BenchmarkGatewaySSE(b *testing.B) {
	benchGateway(b, sseUpstream, `{"model":"claude-sonnet-4-5","max_tokens":10,"stream":true}`)
}

// BenchmarkUpstreamDirect is the baseline: the same request straight to the
// upstream through the same transport, without the gateway.
func BenchmarkUpstreamDirect(b *testing.B) {
	up := newUpstream(b, nil)
	client := up.srv.Client()
	b.ReportAllocs()
	for b.Loop() {
		r, _ := http.NewRequest("POST", up.srv.URL+"/v1/messages", strings.NewReader(messagesBody))
		resp, err := client.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		drain(resp)
		up.reset()
	}
}

func benchGateway(b *testing.B, h http.HandlerFunc, body string) {
	e := newEnv(b, allowAll, h)
	e.gw.cfg.Auditor = nil
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		r := newRequest("POST", "/v1/messages", body)
		r.Header.Set("X-Api-Key", clientKey)
		e.gw.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
		e.up.reset()
	}
}

func drain(resp *http.Response) {
	buf := make([]byte, 4096)
	for {
		if _, err := resp.Body.Read(buf); err != nil {
			break
		}
	}
	resp.Body.Close()
}
