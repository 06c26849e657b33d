package mask

import (
	"regexp"
	"regexp/syntax"
	"unicode"
)

// Lazy-body rules. gitleaks' private-key rule is a bounded head, a lazy
// body that takes any rune (`[\s\S-]{64,}?`) and a tail that starts with a
// literal (`KEY(?: BLOCK)?-----`). On its 1 KiB window Go's regexp runs the
// NFA with one thread per body count: tens of microseconds per occurrence.
// The match that regexp picks is found here with the same rules of
// preference, using the regexp only where it is cheap:
//
//   - A match starts where a head does, and the head's own anchored regexp
//     gives the head that the whole rule prefers first (preference orders
//     the head's choices before the body's).
//   - If that head can be completed (some tail starts at least min runes
//     after it), the whole rule takes it, with the shortest body: the first
//     position from there where the tail matches, and the tail's own match.
//   - Otherwise every completion of a less preferred head ends before that
//     head's end + min runes + the tail's longest match, and the whole rule,
//     anchored, decides on that short prefix (no assertion can read past
//     it: the shape has none).
//
// So the matches are the rule's own, in the same order; only ASCII windows
// take this path (bytes are runes there).
// TestLazyBodyAgreesWithRegexp and FuzzLazyBodyAgreesWithRegexp compare.

// lazyBody is the split form of a lazy-body rule.
type lazyBody struct {
	head, tail *regexp.Regexp // anchored
	whole      *regexp.Regexp // the rule, anchored
	first      [256]bool      // bytes a head may start with
	lit        string         // the tail's leading literal (lower-cased when folded)
	fold       bool
	litFirst   [256]bool // the literal's first byte, in either case when folded
	min        int       // runes the body takes at least
	headMax    int       // runes the head spans at most
	tailMax    int       // runes the tail spans at most
}

// newLazyBody splits a rule of that shape; nil for any other.
func newLazyBody(src string, tree *syntax.Regexp) *lazyBody {
	elems := flatten(tree)
	k := lazyBodyIndex(elems)
	if k <= 0 || k == len(elems)-1 || hasAssertion(tree) || hasCapture(tree) {
		return nil
	}
	tail := elems[k+1:]
	l := &lazyBody{min: repeatMin(elems[k]), headMax: maxRunes(concat(elems[:k])), tailMax: maxRunes(concat(tail))}
	if l.headMax < 0 || l.tailMax < 0 || !l.setLit(tail[0]) {
		return nil
	}
	l.head = anchored(concat(elems[:k]).String())
	l.tail = anchored(concat(tail).String())
	l.whole = anchored(src)
	if l.head == nil || l.tail == nil || l.whole == nil {
		return nil
	}
	if !firstBytes(&l.first, elems[0]) { // unknown: try every position
		for c := range l.first {
			l.first[c] = true
		}
	}
	return l
}

// lazyBodyIndex is the index of the lazy any-rune repetition (-1: none).
func lazyBodyIndex(elems []*syntax.Regexp) int {
	for i, t := range elems {
		lazy := t.Flags&syntax.NonGreedy != 0
		unbounded := t.Op == syntax.OpStar || t.Op == syntax.OpPlus || t.Op == syntax.OpRepeat && t.Max < 0
		if lazy && unbounded && anyRune(t.Sub[0]) {
			return i
		}
	}
	return -1
}

func anyRune(t *syntax.Regexp) bool {
	return t.Op == syntax.OpAnyChar ||
		t.Op == syntax.OpCharClass && len(t.Rune) == 2 && t.Rune[0] == 0 && t.Rune[1] == unicode.MaxRune
}

func repeatMin(t *syntax.Regexp) int {
	switch t.Op {
	case syntax.OpPlus:
		return 1
	case syntax.OpRepeat:
		return t.Min
	}
	return 0
}

// setLit takes the tail's leading literal, which must be ASCII.
func (l *lazyBody) setLit(t *syntax.Regexp) bool {
	if t.Op != syntax.OpLiteral || !isASCII(string(t.Rune)) {
		return false
	}
	l.fold = t.Flags&syntax.FoldCase != 0
	l.lit = string(t.Rune)
	if l.fold {
		l.lit = string(lowerASCII([]byte(l.lit)))
		l.litFirst[upperASCII(l.lit[0])] = true
	}
	l.litFirst[l.lit[0]] = true
	return true
}

func lowerASCII(b []byte) []byte {
	for i, c := range b {
		b[i] = lower(c)
	}
	return b
}

func concat(subs []*syntax.Regexp) *syntax.Regexp {
	return &syntax.Regexp{Op: syntax.OpConcat, Sub: subs}
}

func anchored(src string) *regexp.Regexp {
	re, err := regexp.Compile(`^(?:` + src + `)`)
	if err != nil {
		return nil
	}
	return re
}

// maxRunes bounds the runes a match of t spans; -1 when unbounded.
func maxRunes(t *syntax.Regexp) int {
	_, most := runeBounds(t)
	return most
}

func hasAssertion(t *syntax.Regexp) bool {
	switch t.Op {
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	}
	for _, s := range t.Sub {
		if hasAssertion(s) {
			return true
		}
	}
	return false
}

func hasCapture(t *syntax.Regexp) bool {
	if t.Op == syntax.OpCapture {
		return true
	}
	for _, s := range t.Sub {
		if hasCapture(s) {
			return true
		}
	}
	return false
}

// find is the rule's FindAllSubmatchIndex on an ASCII window, limited to
// the matches that start before limit (a window's occurrence needs no
// other); ok is false for a window that is not ASCII.
func (l *lazyBody) find(win []byte, limit int) ([][]int, bool) {
	if !isASCII(win) {
		return nil, false
	}
	var out [][]int
	for pos := 0; pos < limit; {
		loc := l.leftmost(win, pos, limit)
		if loc == nil {
			break
		}
		out = append(out, loc)
		pos = loc[1]
	}
	return out, true
}

// leftmost is the first match that starts in [pos, limit).
func (l *lazyBody) leftmost(win []byte, pos, limit int) []int {
	for s := pos; s < limit && s < len(win); s++ {
		if !l.first[win[s]] {
			continue
		}
		if end, ok := l.matchAt(win, s); ok {
			return []int{s, end}
		}
	}
	return nil
}

// matchAt is the end of the rule's preferred match starting at s.
func (l *lazyBody) matchAt(win []byte, s int) (int, bool) {
	h := l.head.FindIndex(win[s:min(len(win), s+l.headMax)])
	if h == nil {
		return 0, false
	}
	bodyEnd := s + h[1] + l.min
	if b, ok := l.tailFrom(win, bodyEnd); ok {
		return l.tailEnd(win, b), true
	}
	// A less preferred head ending at e completes only with a tail in
	// [e+min, bodyEnd): the last such tail says whether any head ends early
	// enough, and the whole rule decides on the short prefix.
	last := l.lastTail(win, s+l.min, bodyEnd)
	if last < 0 || !l.head.Match(win[s:last-l.min]) {
		return 0, false
	}
	loc := l.whole.FindIndex(win[s:min(len(win), bodyEnd+l.tailMax)])
	if loc == nil {
		return 0, false
	}
	return s + loc[1], true
}

// tailFrom is the first position from b on where the tail matches.
func (l *lazyBody) tailFrom(win []byte, b int) (int, bool) {
	for ; b+len(l.lit) <= len(win); b++ {
		if l.litFirst[win[b]] && l.tailAt(win, b) {
			return b, true
		}
	}
	return 0, false
}

// lastTail is the last position in [from, to) where the tail matches (-1: none).
func (l *lazyBody) lastTail(win []byte, from, to int) int {
	for b := min(to, len(win)-len(l.lit)+1) - 1; b >= from; b-- {
		if l.litFirst[win[b]] && l.tailAt(win, b) {
			return b
		}
	}
	return -1
}

func (l *lazyBody) tailAt(win []byte, b int) bool {
	return l.litAt(win[b:]) && l.tail.Match(win[b:min(len(win), b+l.tailMax)])
}

// tailEnd is the end of the tail's preferred match at b.
func (l *lazyBody) tailEnd(win []byte, b int) int {
	return b + l.tail.FindIndex(win[b:min(len(win), b+l.tailMax)])[1]
}

func (l *lazyBody) litAt(b []byte) bool {
	if l.fold {
		return hasPrefixFold(b, l.lit)
	}
	return string(b[:len(l.lit)]) == l.lit
}
