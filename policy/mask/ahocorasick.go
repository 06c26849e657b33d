package mask

// acMatcher is a small byte-level, ASCII-case-insensitive Aho-Corasick
// automaton. It is written here rather than taken from a library because
// the streaming masker needs two things libraries do not expose: a state
// that survives across chunks, and the depth of that state (how many
// trailing bytes may still be the start of a keyword).
type acMatcher struct {
	next  [][256]int32 // goto function completed with failure links (a DFA)
	depth []int32      // length of the prefix each state stands for
	out   [][]int32    // keyword indexes that end in each state
	kwLen []int32      // length of each keyword
}

func newACMatcher(keywords []string) *acMatcher {
	m := &acMatcher{next: make([][256]int32, 1), depth: []int32{0}, out: make([][]int32, 1)}
	for k, kw := range keywords {
		m.insert(k, kw)
	}
	m.link()
	return m
}

func (m *acMatcher) insert(k int, kw string) {
	state := int32(0)
	for i := 0; i < len(kw); i++ {
		c := lower(kw[i])
		if m.next[state][c] == 0 {
			m.next = append(m.next, [256]int32{})
			m.depth = append(m.depth, m.depth[state]+1)
			m.out = append(m.out, nil)
			m.next[state][c] = int32(len(m.next) - 1)
		}
		state = m.next[state][c]
	}
	m.out[state] = append(m.out[state], int32(k))
	m.kwLen = append(m.kwLen, int32(len(kw)))
}

// link turns the trie into a DFA breadth first: each missing edge points
// where the failure link's edge points, and outputs inherit the failure
// state's outputs.
func (m *acMatcher) link() {
	fail := make([]int32, len(m.next))
	queue := []int32{}
	for c := 0; c < 256; c++ {
		if s := m.next[0][c]; s != 0 {
			queue = append(queue, s)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		m.out[s] = append(m.out[s], m.out[fail[s]]...)
		for c := 0; c < 256; c++ {
			t := m.next[s][c]
			if t == 0 {
				m.next[s][c] = m.next[fail[s]][c]
				continue
			}
			fail[t] = m.next[fail[s]][c]
			queue = append(queue, t)
		}
	}
}

// feed runs the automaton over p, which starts at absolute position base,
// from state, calling found(start, keyword) for every keyword occurrence.
func (m *acMatcher) feed(state int32, p []byte, base int, found func(start int, kw int32)) int32 {
	for i := 0; i < len(p); i++ {
		state = m.next[state][lower(p[i])]
		for _, k := range m.out[state] {
			found(base+i+1-int(m.kwLen[k]), k)
		}
	}
	return state
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
