package sse

import (
	"fmt"
	"strings"
	"testing"
)

// FuzzSplitAgreement: wherever the stream is cut into pieces, the scanner
// yields the same events, error and tail as when fed whole, and the raw
// bytes of the events followed by the tail are exactly the input.
func FuzzSplitAgreement(f *testing.F) {
	f.Add([]byte("event: a\r\ndata: 1\r\n\r\ndata: 2\n\n"), uint16(9), uint16(21), uint8(200))
	f.Add([]byte("data: 1\r\rdata: 2\r\n\r: c\n\nid: 3\nevent: x\ndata\ndata: y\n\n"), uint16(8), uint16(9), uint8(255))
	f.Add([]byte("data: "+strings.Repeat("x", 40)+"\n\ndata: z"), uint16(1), uint16(47), uint8(30))
	f.Fuzz(func(t *testing.T, data []byte, a, b uint16, max uint8) {
		limit := int(max) + 1
		wantEvs, wantTail, wantErr := scanAll(data, limit)
		evs, tail, err := scanAll(data, limit, int(a)%(len(data)+1), int(b)%(len(data)+1))
		if err != nil { // what was dropped after the error depends on the cuts
			tail, wantTail = "", ""
		}
		if fmt.Sprint(evs) != fmt.Sprint(wantEvs) || err != wantErr || tail != wantTail {
			t.Fatalf("cuts %d,%d changed the result:\n whole %q %v %q\n split %q %v %q", a, b, wantEvs, wantErr, wantTail, evs, err, tail)
		}
		evs, tail, err = scanAll(data, len(data)+1, 1, 2, 3, int(a)%(len(data)+1))
		var raw strings.Builder
		for _, e := range evs {
			raw.WriteString(e.Raw)
		}
		if err != nil || raw.String()+tail != string(data) {
			t.Fatalf("raw bytes differ from the input: err %v, %q + %q", err, raw.String(), tail)
		}
	})
}
