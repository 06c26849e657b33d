package gateway

import (
	"io"
	"strings"
	"testing"
)

// countedChunks counts the upstream reads.
type countedChunks struct {
	chunks
	reads int
}

func (c *countedChunks) Read(p []byte) (int, error) { c.reads++; return c.chunks.Read(p) }

// recordYields replaces yield for one test with a counter that notes how
// many upstream reads had happened when it ran.
func recordYields(t *testing.T, src *countedChunks) (yields *int, readsAtYield *int) {
	yields, readsAtYield = new(int), new(int)
	old := yield
	yield = func() { *yields++; *readsAtYield = src.reads }
	t.Cleanup(func() { yield = old })
	return yields, readsAtYield
}

// A streamed body yields the CPU once, after its first bytes went out and
// before the upstream is read again.
func TestStreamYieldsOnceAfterItsFirstBytes(t *testing.T) {
	e := newEnv(t, allowAll, nil)
	// Longer than what the pass transform holds back (a possible start of the key).
	first, second, third := strings.Repeat("a", 300), strings.Repeat("b", 300), strings.Repeat("c", 300)
	src := &countedChunks{chunks: chunks{pieces: [][]byte{[]byte(first), []byte(second), []byte(third)}}}
	yields, at := recordYields(t, src)
	b := e.respBody(t, src, passThrough)
	defer b.Close()
	p := make([]byte, 1024)
	n, err := b.Read(p)
	if err != nil || n == 0 || src.reads != 1 {
		t.Fatalf("first read: %d bytes after %d upstream reads, %v", n, src.reads, err)
	}
	if *yields != 0 {
		t.Fatalf("yielded %d times before the first bytes were taken", *yields)
	}
	rest, err := io.ReadAll(b)
	if got := string(p[:n]) + string(rest); err != nil || got != first+second+third {
		t.Fatalf("body: %d bytes, %v", len(got), err)
	}
	if *yields != 1 || *at != 1 {
		t.Errorf("yielded %d times, after %d upstream reads; want once, after the first", *yields, *at)
	}
}

// A body transformed whole before its headers go out (a JSON answer) has
// nothing to yield for: its bytes all leave at once.
func TestPrefetchedBodyDoesNotYield(t *testing.T) {
	e := newEnv(t, allowAll, nil)
	src := &countedChunks{chunks: chunks{pieces: [][]byte{[]byte(`{"a":`), []byte(`1}`)}}}
	yields, _ := recordYields(t, src)
	b := e.respBody(t, src, passThrough)
	defer b.Close()
	if err := b.prefetch(); err != nil {
		t.Fatal(err)
	}
	if out, err := io.ReadAll(b); err != nil || string(out) != `{"a":1}` {
		t.Fatalf("%q %v", out, err)
	}
	if *yields != 0 {
		t.Errorf("yielded %d times", *yields)
	}
}
