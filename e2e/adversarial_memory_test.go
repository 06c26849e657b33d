package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/audit"
)

// rssBoundKB is the bound on airlockd's resident memory under the slow-body
// and hostile-stream attacks (issue 11 measured 607 MB before the fix).
const rssBoundKB = 200 << 10

// advScenarioHeader picks a hostile upstream behaviour (hostileStreams).
const advScenarioHeader = "X-Adv-Scenario"

// hostileStreamCap bounds what a hostile upstream writes, so that the test
// stops by itself even when the daemon buffers without limit.
const hostileStreamCap = 300 << 20

// hostileStreams are upstream answers that try to make the daemon hold
// without bound. Each stops at hostileStreamCap, a write error, or 60s.
var hostileStreams = map[string]func(http.ResponseWriter, *http.Request){
	// Events with no blank line between them: one endless "event".
	"sse-noblank": func(w http.ResponseWriter, r *http.Request) {
		streamHead(w)
		line := `event: content_block_delta` + "\n" +
			`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"xxxxxxxxxxxxxxxx"}}` + "\n"
		writeRepeated(w, r, "", line)
	},
	// A proper stream to message_stop, then pings that never end.
	"sse-endless": func(w http.ResponseWriter, r *http.Request) {
		streamHead(w)
		writeRepeated(w, r, sseMessage, "event: ping\ndata: {\"type\": \"ping\"}\n\n")
	},
}

const sseMessage = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_hostile\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-haiku-4-5\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n" +
	"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\n" +
	"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
	"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n" +
	"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"

func streamHead(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
}

func writeRepeated(w http.ResponseWriter, r *http.Request, first, unit string) {
	rc := http.NewResponseController(w)
	ctx, cancel := context.WithTimeout(r.Context(), 60*time.Second)
	defer cancel()
	block := first + strings.Repeat(unit, (64<<10)/len(unit))
	for sent := 0; sent < hostileStreamCap && ctx.Err() == nil; sent += len(block) {
		if _, err := w.Write([]byte(block)); err != nil {
			return
		}
		_ = rc.Flush()
		block = strings.Repeat(unit, (64<<10)/len(unit))
	}
}

// rssSampler records the highest VmRSS of pid until stopped.
type rssSampler struct {
	stop chan struct{}
	done chan int
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan int, 1)}
	go func() {
		peak := 0
		for {
			peak = max(peak, readRSS(pid))
			select {
			case <-s.stop:
				s.done <- peak
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return s
}

// Peak stops sampling and returns the highest figure seen, in kB.
func (s *rssSampler) Peak() int { close(s.stop); return <-s.done }

func readRSS(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			var kb int
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb
		}
	}
	return 0
}

// TestAdversarialSlowBodies: 16 connections declare 32 MiB bodies and send
// one byte; then one body trickles a byte a second. RSS stays bounded and the
// trickle is cut off by a deadline.
func TestAdversarialSlowBodies(t *testing.T) {
	w := startWorld(t, advOptions{})
	m := w.mark(t)
	base := w.rssKB(t)
	head := apiHead(APIHost)
	req := "POST /v1/messages HTTP/1.1\r\n" + strings.Join(head, "\r\n") + "\r\nContent-Length: 33554432\r\n\r\n{"
	// Rounds: later ones reuse (and so must zero, touching every page) the
	// memory earlier ones freed; fresh pages that are never touched are not
	// resident, so one round alone would not show a buffer sized by the claim.
	s := sampleRSS(w.daemonPID(t))
	var results []hostileResult
	for range 4 {
		res := w.hostile(t, nil, "hold", "-req", tempFile(t, "req", req), "-n", "16", "-for", "4s")
		results = append(results, res.Results...)
	}
	peak := s.Peak()
	t.Logf("airlockd VmRSS: %d kB before, peak %d kB while 4 rounds of 16 connections held 32 MiB declared bodies", base, peak)
	if peak > rssBoundKB {
		t.Errorf("airlockd VmRSS peaked at %d kB (bound %d kB)", peak, rssBoundKB)
	}
	for i, r := range results {
		if r.Status != 0 && r.Status != 429 && r.Status != 503 && r.Status != 408 && r.Status != 400 {
			t.Errorf("held connection %d answered %d %q", i, r.Status, r.Body)
		}
	}
	w.after(t, m, nil)
}

// TestAdversarialTrickle is the trickled body, on a daemon of its own whose
// body deadline (gateway.body_timeout) is 10s.
func TestAdversarialTrickle(t *testing.T) {
	advTrickle(t, startWorld(t, advOptions{Config: "gateway:\n  body_timeout: 10s\n"}))
}

// advTrickle sends a 136-byte body one byte per second; the read deadline
// must end it long before the client gives up (60s).
func advTrickle(t *testing.T, w *advWorld) {
	m := w.mark(t)
	body := `{"model":"claude-haiku-4-5","max_tokens":16,"messages":[{"role":"user","content":"` + strings.Repeat("s", 50) + `"}]}`
	req := tempFile(t, "req", rawRequest("POST /v1/messages HTTP/1.1", body, apiHead(APIHost)...))
	res := w.hostile(t, nil, "raw", "-req", req, "-trickle", "1s", "-for", "60s")
	t.Logf("trickle: ended after %d ms, %d body bytes sent, status %d %s", res.ElapsedMS, res.Sent, res.Status, res.Error)
	if res.ElapsedMS >= 30_000 || res.Status != 408 {
		t.Errorf("the trickled body was not cut off by the 10s deadline: %d ms, status %d", res.ElapsedMS, res.Status)
	}
	w.after(t, m, statusIs(408))
}

// TestAdversarialStreams: the upstream streams events without blank lines,
// or never ends after message_stop. RSS stays bounded, the client gets an
// error event or the end of the stream, and the daemon lives on.
func TestAdversarialStreams(t *testing.T) {
	w := startWorld(t, advOptions{})
	for _, sc := range []string{"sse-noblank", "sse-endless"} {
		t.Run(sc, func(t *testing.T) {
			m := w.mark(t)
			base := w.rssKB(t)
			s := sampleRSS(w.daemonPID(t))
			res := w.h.Run(t, "curl", "-sS", "-N", "--max-time", "40", "-o", "/dev/null", "-w", "%{size_download}",
				apiHostURL("/v1/messages"), "-H", "x-api-key: "+advEmbeddedKey, "-H", "anthropic-version: 2023-06-01",
				"-H", "content-type: application/json", "-H", advScenarioHeader+": "+sc,
				"--data-binary", `{"model":"claude-haiku-4-5","max_tokens":16,"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
			peak := s.Peak()
			t.Logf("%s: airlockd VmRSS %d kB before, peak %d kB; client got %s bytes, exit %d %s", sc, base, peak, res.Stdout, res.Code, res.Stderr)
			if peak > rssBoundKB {
				t.Errorf("airlockd VmRSS peaked at %d kB (bound %d kB)", peak, rssBoundKB)
			}
			if res.Code == 28 {
				t.Errorf("the stream neither ended nor failed within 40s")
			}
			w.after(t, m, func(r audit.Record) bool { return r.Stream || r.Path == "/v1/messages" })
		})
	}
}
