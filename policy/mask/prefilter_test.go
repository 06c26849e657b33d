package mask

import "testing"

// TestPrefilterMemory reports the prefilter's size with the full rule set:
// a dense DFA, 256 int32 transitions (1 KiB) per trie node. It bounds the
// total so a rule set that grows the automaton past it fails here first.
func TestPrefilterMemory(t *testing.T) {
	m := newTestMasker(t, Config{PII: true})
	e := m.engine.Load().e
	nodes, kws := len(e.ac.next), len(e.kwValue)
	bytes := nodes * 256 * 4
	t.Logf("prefilter: %d keywords of %d detectors, %d nodes, %d KiB (%.0f bytes per keyword)",
		kws, len(e.detectors), nodes, bytes>>10, float64(bytes)/float64(kws))
	if bytes > 8<<20 {
		t.Errorf("prefilter %d KiB, want at most 8 MiB", bytes>>10)
	}
}
