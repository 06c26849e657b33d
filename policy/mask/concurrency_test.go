package mask

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestConcurrentUse runs Text, Request and streams on one Masker while the
// managed credential changes (to values absent from the texts, so results
// must stay stable); run with -race to check the sharing.
func TestConcurrentUse(t *testing.T) {
	m := newTestMasker(t, Config{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for i := 0; i < 30; i++ {
				text := randomText(r, 400)
				want, _ := m.Text(text, nil)
				m.Request([]byte(requestWithEverything), nil)
				var out bytes.Buffer
				s := m.NewStream(&out, nil, StreamOptions{})
				s.Write([]byte(buildStream(r, "\n", randomRunePieces(r, text), nil)))
				s.Close()
				if got := blockText(parseSSE(t, out.Bytes()), 0, "text"); got != want {
					errs <- fmt.Errorf("goroutine %d: stream %q != text %q", g, got, want)
					return
				}
			}
		}(g)
	}
	for i := 0; i < 20; i++ {
		m.SetManaged([]string{"my-managed-FAKE-value", fmt.Sprintf("zz-FAKE-managed-%d", i)})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
