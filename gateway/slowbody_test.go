package gateway

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/internal/testutil"
)

// startSlowBody opens a raw HTTP/1.1 request that announces length bytes
// and sends only sent of them, and leaves it waiting.
func (s *stack) startSlowBody(t *testing.T, length int, sent string) *tls.Conn {
	t.Helper()
	c := s.raw(t, "http/1.1")
	c.SetDeadline(time.Now().Add(time.Minute)) // a hang guard, not a speed check
	fmt.Fprintf(c, "POST /v1/messages HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", apiHost, length, sent)
	return c
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// Issue 11, item 8: 16 requests announcing 32 MiB and sending one byte used
// to allocate 16 x 32 MiB up front. Buffers now follow the bytes that
// arrive: the heap grows by kilobytes, not hundreds of megabytes.
func TestAnnouncedLengthDoesNotAllocate(t *testing.T) {
	s := newStack(t, allowAll, nil, "h2")
	before := heapInUse()
	for range 16 {
		s.startSlowBody(t, 32<<20, "{")
	}
	testutil.Eventually(t, 30*time.Second, "all 16 bodies being read", func() bool {
		return s.gw.held.used.Load() >= 16*firstBodyBuf
	})
	if grown := int64(heapInUse()) - int64(before); grown > 64<<20 {
		t.Fatalf("16 one-byte bodies grew the heap by %d MiB", grown>>20)
	}
}

// The total of bodies held is bounded: past it a request is answered 503
// overloaded_error with Retry-After, and the budget comes back when the
// holder is done.
func TestInFlightBodiesAreBounded(t *testing.T) {
	s := newStack(t, allowAll, nil, "h2", func(c *Config, _ *credentialConfig) { c.MaxInFlight = 256 << 10 })
	hog := s.startSlowBody(t, 1<<20, `{"a":"`+strings.Repeat("x", 200<<10))
	testutil.Eventually(t, 30*time.Second, "the hog's 200 KiB held", func() bool { return s.gw.held.used.Load() >= 200<<10 })
	big := `{"model":"claude-sonnet-4-5","max_tokens":1,"pad":"` + strings.Repeat("y", 100<<10) + `"}`
	r, _ := http.NewRequest("POST", "https://"+apiHost+"/v1/messages", strings.NewReader(big))
	resp := s.send(t, "h2", r)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || decodeError(t, body).Error.Type != "overloaded_error" {
		t.Fatalf("over the budget: status %d, retry-after %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	hog.Close()
	testutil.Eventually(t, 30*time.Second, "the hog's budget back", func() bool { return s.gw.held.used.Load() == 0 })
	r, _ = http.NewRequest("POST", "https://"+apiHost+"/v1/messages", strings.NewReader(big))
	if resp := s.send(t, "h2", r); resp.StatusCode != 200 {
		t.Fatalf("after the hog left: status %d", resp.StatusCode)
	}
}

// A trickled body is cut off at the body timeout (408), over HTTP/1.1 and
// h2, and audited.
func TestTrickledBodyIsCutOff(t *testing.T) {
	s := newStack(t, allowAll, nil, "h2", func(c *Config, _ *credentialConfig) { c.BodyTimeout = 500 * time.Millisecond })
	c := s.startSlowBody(t, 100, "{")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("http1: %v %v", resp, err)
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte("{")) // and nothing more
	r, _ := http.NewRequest("POST", "https://"+apiHost+"/v1/messages", pr)
	if resp := s.send(t, "h2", r); resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("h2: status %d", resp.StatusCode)
	}
	if rec, _ := s.audit.last(t); rec.Status != 408 || rec.Decision != "error" {
		t.Fatalf("audit record %+v", rec)
	}
}
