package gateway

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// FuzzSSEPipelineSplit: whatever bytes an upstream streams and wherever its
// reads are cut, the client gets the same masked bytes, never the managed
// value, and the exchange is finished exactly once.
func FuzzSSEPipelineSplit(f *testing.F) {
	crlf := strings.ReplaceAll(sseResponse, "\n", "\r\n")
	f.Add([]byte(sseResponse), uint16(10), uint16(200))
	f.Add([]byte(strings.Replace(crlf, "Hello", "key AKIAIOSFODNN7EXAMPLE "+managedKey, 1)), uint16(300), uint16(301))
	f.Add([]byte("data: {\"type\":\"ping\"}\rdata: x\r\r: c\n\nevent: message_stop\ndata: {}\n\nevent: ping\n\n"), uint16(5), uint16(40))
	f.Add([]byte("data: "+managedKey[:9]), uint16(3), uint16(7))
	e := newEnv(f, allowAll, nil, withMasker(f), withConfig(func(c *Config) { c.MaxEvent = 512 }))
	sseT := func(ex *exchange) transformer {
		ex.maskResp = true
		return e.gw.newSSETransform(context.Background(), ex)
	}
	f.Fuzz(func(t *testing.T, data []byte, a, b uint16) {
		i, j := min(int(a), len(data)), min(int(b), len(data))
		i, j = min(i, j), max(i, j)
		before := e.audit.count()
		whole, err1 := e.pipeline(t, &chunks{pieces: [][]byte{bytes.Clone(data)}}, sseT)
		split, err2 := e.pipeline(t, &chunks{pieces: [][]byte{bytes.Clone(data[:i]), bytes.Clone(data[i:j]), bytes.Clone(data[j:])}}, sseT)
		// An error event the gateway writes names its own exchange.
		whole, split = requestIDs.ReplaceAll(whole, []byte("req_X")), requestIDs.ReplaceAll(split, []byte("req_X"))
		if err1 != nil || err2 != nil || !bytes.Equal(whole, split) {
			t.Fatalf("cuts %d,%d changed the output (%v, %v):\n whole %q\n split %q", i, j, err1, err2, whole, split)
		}
		if bytes.Contains(whole, []byte(managedKey)) {
			t.Fatalf("managed value reached the client: %q", whole)
		}
		if n := e.audit.count() - before; n != 2 {
			t.Fatalf("%d records for 2 responses", n)
		}
	})
}
