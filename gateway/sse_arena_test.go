package gateway

import (
	"bytes"
	"testing"
)

// TestRecordArenaKeepsEveryEvent: events of every size, copied into shared
// chunks, each keep their own bytes, and appending to one cannot reach its
// neighbour.
func TestRecordArenaKeepsEveryEvent(t *testing.T) {
	var a recordArena
	var want, got [][]byte
	for i := range 3000 {
		ev := bytes.Repeat([]byte{byte(i)}, (i*37)%(maxArenaChunk/3)+1)
		want, got = append(want, ev), append(got, a.clone(ev))
	}
	_ = append(got[0], 'x') // must not write into got[1]
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("event %d (%d bytes) changed", i, len(want[i]))
		}
	}
}
