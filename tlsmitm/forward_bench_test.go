package tlsmitm

import (
	"bytes"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httputil"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// benchRequest and benchAnswer are a one-turn Messages request and a short
// JSON answer, the shape of the bench's "non-streamed" scenario.
const (
	benchRequest = `{"model":"claude-sonnet-4-5","max_tokens":256,"messages":[{"role":"user","content":"Say hello in one short sentence."}]}`
	benchAnswer  = `{"id":"msg_01FAKE","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Hello there, nice to meet you."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":14,"output_tokens":9}}`
)

// BenchmarkForward measures the lean forwarding path in one process:
// HTTP/1.1 keep-alive client → Server (ServeAPI) → a ReverseProxy shaped
// like the gateway's (gatewayLike) → upstream
// transport → TLS h2-capable upstream answering a short JSON body, with 16
// concurrent clients (b.SetParallelism(8) on 2 cores). "direct" is the same
// client straight to the upstream: the limit. cpu-ns/op is the process's CPU
// time (client, proxy and upstream) per request, steadier than ns/op on a
// shared machine.
//
//	go test -run '^$' -bench Forward -benchmem -benchtime 3s ./tlsmitm/
func BenchmarkForward(b *testing.B) {
	b.Run("direct", benchDirect)
	for _, proto := range []string{ProtocolH2, ProtocolHTTP1} {
		b.Run("upstream="+proto, func(b *testing.B) { benchForward(b, proto, 0) })
	}
	// The gateway's current setting: flush every write, headers apart.
	b.Run("upstream=h2/flush=-1", func(b *testing.B) { benchForward(b, ProtocolH2, -1) })
}

// benchDirect is the limit: the same client straight to the upstream.
func benchDirect(b *testing.B) {
	up, caFile := startUpstream(b, answerJSON(nil))
	pem, err := os.ReadFile(caFile)
	if err != nil {
		b.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	direct := &testServer{addr: up.Listener.Addr().String(), roots: roots}
	runParallel(b, direct.client(false))
}

func benchForward(b *testing.B, proto string, flush time.Duration) {
	var upConns, clientConns sync.Map // remote addresses seen: connections opened
	up, caFile := startUpstream(b, answerJSON(&upConns))
	tr, err := NewUpstream(UpstreamConfig{Override: up.Listener.Addr().String(), ExtraCAFile: caFile, Protocol: proto})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(tr.CloseIdleConnections)
	fwd := gatewayLike(tr, flush)
	s := startServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		clientConns.Store(r.RemoteAddr, true)
		fwd.ServeHTTP(w, r)
	}), nil)
	runParallel(b, s.client(false))
	b.ReportMetric(float64(mapLen(&clientConns)), "client-conns")
	b.ReportMetric(float64(mapLen(&upConns)), "upstream-conns")
}

// gatewayLike is ForwardHandler shaped like the gateway's proxy: it reads
// the request body into memory first (the gateway inspects it) and sets the
// outgoing body in Rewrite, so the transport sees an in-memory body.
func gatewayLike(tr http.RoundTripper, flush time.Duration) http.Handler {
	rp := ForwardHandler(tr).(*httputil.ReverseProxy)
	rewrite := rp.Rewrite
	rp.FlushInterval = flush
	rp.Rewrite = func(pr *httputil.ProxyRequest) {
		rewrite(pr)
		body, _ := io.ReadAll(pr.In.Body)
		pr.Out.Body, pr.Out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	return rp
}

// answerJSON answers benchAnswer, recording each connection in conns.
func answerJSON(conns *sync.Map) http.Handler {
	answer := []byte(benchAnswer)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if conns != nil {
			conns.Store(r.RemoteAddr, true)
		}
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	})
}

// runParallel sends benchRequest from 16 keep-alive HTTP/1.1 clients (8 per
// GOMAXPROCS on 2 cores) and reports throughput and process CPU per request.
func runParallel(b *testing.B, client *http.Client) {
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	b.SetParallelism(8)
	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchOne(b, client)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

func mapLen(m *sync.Map) (n int) {
	m.Range(func(any, any) bool { n++; return true })
	return n
}

// processCPU is the user+system CPU time of the whole process (client, proxy
// and upstream together) in nanoseconds: unlike wall time it does not depend
// on what else the shared machine runs.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func benchOne(b *testing.B, client *http.Client) {
	resp, err := client.Post("https://"+testHost+"/v1/messages", "application/json", bytes.NewReader([]byte(benchRequest)))
	if err != nil {
		b.Error(err)
		return
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || n != int64(len(benchAnswer)) {
		b.Errorf("status %d, %d bytes", resp.StatusCode, n)
	}
}
