package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/internal/sse"
)

// BenchmarkGatewayJSON measures the whole in-process path for a
// non-streamed Messages request: strip, parse, decide, substitute, forward to
// an httptest upstream over loopback, read the response, audit.
func BenchmarkGatewayJSON(b *testing.B) {
	benchGateway(b, allowAll, nil, messagesBody)
}

// BenchmarkGatewaySSE is the same for a streamed response of 7 events.
func BenchmarkGatewaySSE(b *testing.B) {
	benchGateway(b, allowAll, sseUpstream, `{"model":"claude-sonnet-4-5","max_tokens":10,"stream":true}`)
}

// BenchmarkGatewaySSEActionRules is BenchmarkGatewaySSE under a policy with
// action rules: the gate is in the path, the stream has no tool call.
func BenchmarkGatewaySSEActionRules(b *testing.B) {
	benchGateway(b, actionPolicy, sseUpstream, `{"model":"claude-sonnet-4-5","max_tokens":10,"stream":true}`)
}

// BenchmarkActionGateTextEvent is what the gate adds to each event of a
// stream without tool calls (a text delta), next to a stage that only passes.
func BenchmarkActionGateTextEvent(b *testing.B) {
	ev := sse.Parse([]byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0," +
		"\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello! How can I help you today with the code?\"}}\n\n"))
	pass := emitStage(func(sse.Event) error { return nil })
	for _, tc := range []struct {
		name  string
		stage eventStage
	}{{"without", pass}, {"gate", &actionGate{next: pass, verdict: map[string]verdict{}}}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := tc.stage.Event(ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
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

func benchGateway(b *testing.B, policySrc string, h http.HandlerFunc, body string) {
	e := newEnv(b, policySrc, h)
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

// BenchmarkSSETextEvent is what the gateway (masking off, recording on) does
// per upstream text delta: frame it, take it through the stages, record it
// and queue it for the client. The common case should not allocate.
func BenchmarkSSETextEvent(b *testing.B) {
	e := newEnv(b, allowAll, nil)
	ex := e.gw.begin(newRequest("POST", "/v1/messages", ""))
	ex.rc = &audit.Recording{}
	t := e.gw.newSSETransform(context.Background(), ex)
	ev := []byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0," +
		"\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello! How can I help you today?\"}}\n\n")
	out := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		if len(ex.rc.Events) > 4096 { // a long answer, then the next
			ex.rc.Events, t.recorded = ex.rc.Events[:0], 0
		}
		var err error
		if out, err = t.write(out[:0], ev); err != nil {
			b.Fatal(err)
		}
	}
}
