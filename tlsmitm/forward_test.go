package tlsmitm

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// startUpstream serves handler over TLS with its own test CA (unrelated to
// the Airlock CA) for testHost, and returns it with that CA's PEM file.
func startUpstream(t testing.TB, handler http.Handler) (*httptest.Server, string) {
	t.Helper()
	upstreamCA := newTestCA(t)
	leaf, err := upstreamCA.IssueLeaf(testHost)
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewUnstartedServer(handler)
	up.EnableHTTP2 = true
	up.TLS = &tls.Config{Certificates: []tls.Certificate{*leaf}}
	up.StartTLS()
	t.Cleanup(up.Close)
	caFile := filepath.Join(t.TempDir(), "upstream-ca.pem")
	if err := os.WriteFile(caFile, upstreamCA.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return up, caFile
}

// startChain is client → Server(ServeAPI) → ForwardHandler → upstream.
func startChain(t *testing.T, upstream http.Handler, trustUpstream bool) *testServer {
	t.Helper()
	up, caFile := startUpstream(t, upstream)
	cfg := UpstreamConfig{Override: up.Listener.Addr().String()}
	if trustUpstream {
		cfg.ExtraCAFile = caFile
	}
	tr, err := NewUpstream(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return startServer(t, ForwardHandler(tr), nil)
}

// hashEcho answers with the SHA-256 of the request body and the protocol the
// upstream saw.
func hashEcho() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, _ := io.Copy(h, r.Body)
		fmt.Fprintf(w, "%s %d %s %s", r.Host, n, hex.EncodeToString(h.Sum(nil)), r.Proto)
	})
}

func TestForwardLargeBody(t *testing.T) {
	s := startChain(t, hashEcho(), true)
	body := make([]byte, 32<<20)
	rand.Read(body)
	sum := sha256.Sum256(body)
	for _, h2 := range []bool{false, true} {
		resp, err := s.client(h2).Post("https://"+testHost+"/v1/messages", "application/octet-stream", strings.NewReader(string(body)))
		if err != nil {
			t.Fatalf("h2=%v: %v", h2, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := fmt.Sprintf("%s %d %s HTTP/2.0", testHost, len(body), hex.EncodeToString(sum[:]))
		if string(got) != want {
			t.Errorf("h2=%v: upstream saw %q, want %q", h2, got, want)
		}
	}
}

// streamer sends the first event, waits until the client has read it (so the
// test proves streaming without timing), then sends the rest.
func streamer(events int, firstSeen <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range events {
			fmt.Fprintf(w, "event: content_block_delta\ndata: {\"index\":%d,\"pad\":%q}\n\n", i, strings.Repeat("x", 512))
			w.(http.Flusher).Flush()
			if i == 0 {
				<-firstSeen
			}
		}
	})
}

func TestForwardStreamsResponse(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		firstSeen := make(chan struct{})
		const events = 2000
		s := startChain(t, streamer(events, firstSeen), true)
		resp, err := s.client(h2).Get("https://" + testHost + "/v1/messages")
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		n := 0
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				if !strings.Contains(data, fmt.Sprintf(`"index":%d,`, n)) {
					t.Fatalf("event %d out of order: %.40s", n, data)
				}
				if n == 0 {
					close(firstSeen) // reached us before the upstream finished
				}
				n++
			}
		}
		resp.Body.Close()
		if n != events {
			t.Errorf("h2=%v: got %d events, want %d", h2, n, events)
		}
	}
}

func TestForwardRefusesInvalidUpstreamCert(t *testing.T) {
	var reached bool
	s := startChain(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }), false)
	resp, err := s.client(true).Post("https://"+testHost+"/v1/messages", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Type  string `json:"type"`
		Error struct{ Type, Message string }
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusBadGateway || body.Type != "error" || body.Error.Type != "api_error" {
		t.Errorf("got %d %+v, want 502 api_error", resp.StatusCode, body)
	}
	if !strings.Contains(body.Error.Message, "certificate") || reached {
		t.Errorf("message %q (upstream reached: %v): want a certificate failure and no request upstream", body.Error.Message, reached)
	}
}

func TestNewUpstreamRejectsBadConfig(t *testing.T) {
	for _, cfg := range []UpstreamConfig{
		{ExtraCAFile: filepath.Join(t.TempDir(), "missing.pem")},
		{ProxyURL: "socks5://127.0.0.1:1080"},
		{ProxyURL: "://"},
		{Protocol: "h3"},
	} {
		if _, err := NewUpstream(cfg); err == nil {
			t.Errorf("NewUpstream(%+v) accepted a bad config", cfg)
		}
	}
	tr, err := NewUpstream(UpstreamConfig{})
	if err != nil || tr.TLSClientConfig.InsecureSkipVerify || !tr.ForceAttemptHTTP2 {
		t.Errorf("default upstream: err %v, insecure %v, h2 %v", err, tr.TLSClientConfig.InsecureSkipVerify, tr.ForceAttemptHTTP2)
	}
}
