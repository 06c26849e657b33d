package mask

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// TestPrefilterMemory reports the prefilter's size with the full rule set,
// per detector (the largest), and bounds the total so a rule set that
// grows the automaton past it fails here first.
func TestPrefilterMemory(t *testing.T) {
	m := newTestMasker(t, Config{PII: true})
	e := m.engine.Load().e
	total := e.ac.bytes()
	t.Logf("prefilter: %d keywords of %d detectors, %d states, %d columns, %d KiB (%.0f bytes per keyword)",
		len(e.kwValue), len(e.detectors), e.ac.states(), e.ac.cols, total>>10, float64(total)/float64(len(e.kwValue)))
	idx := make([]int, len(e.detectors))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return e.prefilterBytes[idx[a]] > e.prefilterBytes[idx[b]] })
	sum := 0
	for _, i := range idx {
		sum += e.prefilterBytes[i]
	}
	for _, i := range idx[:5] {
		t.Logf("  %-28s %6d bytes", e.detectors[i].info.Name, e.prefilterBytes[i])
	}
	if sum > total || sum < total/2 {
		t.Errorf("per-detector shares add up to %d bytes of %d: the report does not account for the automaton", sum, total)
	}
	if total > 1<<20 {
		t.Errorf("prefilter %d KiB, want at most 1 MiB with the default rule set", total>>10)
	}
}

// TestPrefilterBound: a literal list that would grow the prefilter past
// the bound is refused at New with an error naming it, and the report
// grows with the list (linear, as a trie of distinct values must).
func TestPrefilterBound(t *testing.T) {
	values := make([]string, 20000)
	for i := range values {
		values[i] = fmt.Sprintf("FAKE-literal-%08d-value", i*7919)
	}
	cfg := Config{Key: testKey, Literals: []Literal{{Name: "big_list", Values: values}}, MaxPrefilterBytes: 8 << 20}
	_, err := New(cfg)
	if !errors.Is(err, ErrPrefilterTooLarge) {
		t.Fatalf("New with 20,000 literals under an 8 MiB bound: %v, want ErrPrefilterTooLarge", err)
	}
	if msg := err.Error(); !strings.Contains(msg, `"big_list"`) || !strings.Contains(msg, "max_prefilter") {
		t.Errorf("error %q does not name the list and the setting", msg)
	}
	cfg.MaxPrefilterBytes = 0 // the default bound takes it
	entries, err := Catalog(cfg)
	if err != nil {
		t.Fatalf("default bound: %v", err)
	}
	for _, e := range entries {
		if e.Name == "big_list" {
			t.Logf("big_list: %d KiB of prefilter", e.PrefilterBytes>>10)
			if e.PrefilterBytes < 8<<20 {
				t.Errorf("big_list reported at %d bytes, want its share (> 8 MiB)", e.PrefilterBytes)
			}
			return
		}
	}
	t.Fatal("Catalog does not list the configured literal list")
}
