package mask

// acMatcher is a small byte-level, ASCII-case-insensitive Aho-Corasick
// automaton. It is written here rather than taken from a library because
// the streaming masker needs two things libraries do not expose: a state
// that survives across chunks, and the depth of that state (how many
// trailing bytes may still be the start of a keyword).
//
// The DFA is compact: bytes that no keyword contains share one class, so
// a state's row has one entry per distinct keyword byte (about 45 for the
// full rule set) instead of 256, and the whole table stays in cache.
type acMatcher struct {
	class [256]uint8 // byte → column (0: a byte no keyword holds)
	cols  int        // columns per state
	next  []int32    // while building: state*cols + column → state (goto completed with failure links)
	// edges is next once built, as the scanning loops read it: the
	// target's row offset (state*cols) shifted left once, with the low bit
	// set when keywords end in the target. A step is then one load, with
	// no multiply, and out is read only where a keyword ends.
	edges []int32
	depth []int32   // length of the prefix each state stands for
	out   [][]int32 // keyword indexes that end in each state
	kwLen []int32   // length of each keyword
	// owned counts, per keyword, the states its insertion created: what it
	// adds to the automaton (a keyword sharing a prefix adds less).
	owned []int32
}

// acStateBytes is what one state costs besides its row: depth and the
// output slice header.
const acStateBytes = 4 + 24

func newACMatcher(keywords []string) *acMatcher {
	m := &acMatcher{}
	m.classify(keywords)
	m.addState(0)
	for k, kw := range keywords {
		m.insert(k, kw)
	}
	m.link()
	m.edges = make([]int32, len(m.next))
	for e, t := range m.next {
		m.edges[e] = m.row(t) << 1
		if len(m.out[t]) > 0 {
			m.edges[e] |= 1
		}
	}
	m.next = nil
	return m
}

// row is the edges offset of a state.
func (m *acMatcher) row(state int32) int32 { return state * int32(m.cols) }

// stateOf is the state whose edges start at row.
func (m *acMatcher) stateOf(row int32) int32 { return row / int32(m.cols) }

// step follows byte c from the state whose row is given: the next row, and
// whether keywords end in that state.
func (m *acMatcher) step(row int32, c byte) (int32, bool) {
	t := m.edges[row+int32(m.class[c])]
	return t >> 1, t&1 != 0
}

// classify gives every (lower-cased) byte some keyword holds a column.
func (m *acMatcher) classify(keywords []string) {
	n := 1
	for _, kw := range keywords {
		for i := 0; i < len(kw); i++ {
			if c := lower(kw[i]); m.class[c] == 0 {
				m.class[c] = uint8(n)
				n++
			}
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		m.class[c] = m.class[c+'a'-'A']
	}
	m.cols = n
}

func (m *acMatcher) addState(depth int32) int32 {
	m.next = append(m.next, make([]int32, m.cols)...)
	m.depth = append(m.depth, depth)
	m.out = append(m.out, nil)
	return int32(len(m.depth) - 1)
}

func (m *acMatcher) insert(k int, kw string) {
	state, created := int32(0), int32(0)
	for i := 0; i < len(kw); i++ {
		e := int(state)*m.cols + int(m.class[kw[i]])
		if m.next[e] == 0 {
			t := m.addState(m.depth[state] + 1)
			m.next[e] = t
			created++
		}
		state = m.next[e]
	}
	m.out[state] = append(m.out[state], int32(k))
	m.kwLen = append(m.kwLen, int32(len(kw)))
	m.owned = append(m.owned, created)
}

// link turns the trie into a DFA breadth first: each missing edge points
// where the failure link's edge points, and outputs inherit the failure
// state's outputs.
func (m *acMatcher) link() {
	fail := make([]int32, len(m.depth))
	queue := []int32{}
	for c := 0; c < m.cols; c++ {
		if s := m.next[c]; s != 0 {
			queue = append(queue, s)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		m.out[s] = append(m.out[s], m.out[fail[s]]...)
		row, failRow := int(s)*m.cols, int(fail[s])*m.cols
		for c := 0; c < m.cols; c++ {
			t := m.next[row+c]
			if t == 0 {
				m.next[row+c] = m.next[failRow+c]
				continue
			}
			fail[t] = m.next[failRow+c]
			queue = append(queue, t)
		}
	}
}

// feed runs the automaton over p, which starts at absolute position base,
// from state, calling found(start, keyword) for every keyword occurrence.
func (m *acMatcher) feed(state int32, p []byte, base int, found func(start int, kw int32)) int32 {
	row := m.row(state)
	for i := 0; i < len(p); i++ {
		var hit bool
		if row, hit = m.step(row, p[i]); hit {
			for _, k := range m.out[m.stateOf(row)] {
				found(base+i+1-int(m.kwLen[k]), k)
			}
		}
	}
	return m.stateOf(row)
}

// states is the number of states of the automaton.
func (m *acMatcher) states() int { return len(m.depth) }

// bytes is the automaton's size: rows, per-state data and outputs.
func (m *acMatcher) bytes() int {
	n := len(m.edges)*4 + len(m.depth)*acStateBytes
	for _, o := range m.out {
		n += 4 * len(o)
	}
	return n
}

// keywordBytes is what keyword k's own states cost.
func (m *acMatcher) keywordBytes(k int) int {
	return int(m.owned[k]) * (m.cols*4 + acStateBytes)
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
