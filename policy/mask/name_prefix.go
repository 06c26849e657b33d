package mask

import (
	"regexp"
	"regexp/syntax"
	"slices"
)

// The name prefix. Semi-generic rules start with a lazy run of name bytes
// ([\w.-]{0,50}?) before the keyword. On the whole window the backtracker
// then explores every (prefix length, position) pair. Without the prefix
// (the core), a match is found from the keyword on, and the prefix is
// determined: with a lazy prefix the leftmost match takes the first
// position q where the core matches, and starts at the furthest byte back
// from q, within the prefix's bound and the search start, that the run of
// prefix bytes reaches (any earlier start could only reach a later q, and
// then q itself would be reachable). So core plus that walk back gives
// gitleaks' own matches, submatches included (the prefix captures none).

// namePrefix is a rule's lazy leading run and the regexp after it.
type namePrefix struct {
	core  *regexp.Regexp
	short shortForms // core for short windows
	class [256]bool  // the run's ASCII bytes
	most  int        // the run's bound in bytes (ASCII)
	// starts, when the core begins with a keyword element of known
	// spellings, finds the core's matches by trying it anchored only
	// where a spelling starts (nil: the unanchored core on the window).
	starts *anchoredStarts
}

// newNamePrefix splits tree's leading lazy repetitions of one class; nil
// when it does not start with one.
func newNamePrefix(tree *syntax.Regexp) *namePrefix {
	if tree.Op != syntax.OpConcat {
		return nil
	}
	p := &namePrefix{}
	k := 0
	for ; k < len(tree.Sub) && p.addRun(tree.Sub[k], k == 0); k++ {
	}
	if k == 0 || k == len(tree.Sub) {
		return nil
	}
	core, err := regexp.Compile(concat(tree.Sub[k:]).String())
	if err != nil {
		return nil
	}
	p.core, p.short = core, newShortForms(concat(tree.Sub[k:]), asIs)
	p.starts = newAnchoredStarts(concat(tree.Sub[k:]))
	return p
}

// addRun takes t into the prefix if it is a lazy repetition, from zero,
// of a class with the same ASCII bytes as the runs before it.
func (p *namePrefix) addRun(t *syntax.Regexp, first bool) bool {
	if t.Flags&syntax.NonGreedy == 0 || t.Sub == nil || t.Sub[0].Op != syntax.OpCharClass {
		return false
	}
	most := t.Max
	switch {
	case t.Op == syntax.OpStar:
		most = maxWinFwd
	case t.Op != syntax.OpRepeat || t.Min != 0 || t.Max < 0:
		return false
	}
	var set [256]bool
	addContBytes(&set, t.Sub[0])
	for c := 0x80; c < 0x100; c++ {
		set[c] = false
	}
	if !first && set != p.class {
		return false
	}
	p.class, p.most = set, p.most+most
	return true
}

// find is FindAllSubmatchIndex of the whole rule on an ASCII window.
func (p *namePrefix) find(win []byte, n int) [][]int {
	var locs [][]int
	if p.starts != nil && isASCII(win) {
		locs = p.starts.findAll(win, n)
	} else {
		locs = p.short.pick(p.core, len(win)).FindAllSubmatchIndex(win, n)
	}
	from := 0
	for _, loc := range locs {
		q := loc[0]
		for loc[0] > from && q-loc[0] < p.most && p.class[win[loc[0]-1]] {
			loc[0]--
		}
		from = loc[1]
	}
	return locs
}

// anchoredStarts finds a regexp's matches on an ASCII window by trying it
// anchored at each position where its first element may start: Go's
// leftmost-first match is the preferred match at the earliest start that
// has one, and anchoring at that start gives the same preferred match
// (the regexp reads nothing before its start: it has no assertion but
// ones at its end). The unanchored search instead runs the regexp's
// machine over every byte of the window.
type anchoredStarts struct {
	re        *regexp.Regexp // anchored
	short     shortForms
	spellings []string  // lower-cased strings the first element matches
	first     [256]bool // their first bytes, in either case
}

func newAnchoredStarts(t *syntax.Regexp) *anchoredStarts {
	elems := flatten(t)
	if len(elems) == 0 || hasBackAssertion(t) || minMatchLen(t) == 0 {
		return nil
	}
	spell, ok := spellings(elems[0])
	if !ok || len(spell) == 0 || slices.Contains(spell, "") {
		return nil
	}
	a := &anchoredStarts{re: anchored(t.String()), short: newShortForms(t, anchor), spellings: spell}
	if a.re == nil {
		return nil
	}
	for _, sp := range spell {
		a.first[sp[0]], a.first[upperASCII(sp[0])] = true, true
	}
	return a
}

// hasBackAssertion: t reads bytes before a position (^, \b, \B).
func hasBackAssertion(t *syntax.Regexp) bool {
	switch t.Op {
	case syntax.OpBeginLine, syntax.OpBeginText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	}
	return slices.ContainsFunc(t.Sub, hasBackAssertion)
}

// findAll is FindAllSubmatchIndex(win, n) on an ASCII window.
func (a *anchoredStarts) findAll(win []byte, n int) [][]int {
	var out [][]int
	for pos := 0; pos < len(win) && (n < 0 || len(out) < n); {
		loc := a.leftmost(win, pos)
		if loc == nil {
			break
		}
		out = append(out, loc)
		pos = loc[1] // matches are never empty
	}
	return out
}

// leftmost is the first match that starts at or after pos.
func (a *anchoredStarts) leftmost(win []byte, pos int) []int {
	for s := pos; s < len(win); s++ {
		if !a.first[win[s]] || !a.spelledAt(win[s:]) {
			continue
		}
		rest := win[s:]
		if loc := a.short.pick(a.re, len(rest)).FindSubmatchIndex(rest); loc != nil {
			for i := range loc {
				if loc[i] >= 0 {
					loc[i] += s
				}
			}
			return loc
		}
	}
	return nil
}

func (a *anchoredStarts) spelledAt(b []byte) bool {
	for _, sp := range a.spellings {
		if hasPrefixFold(b, sp) {
			return true
		}
	}
	return false
}
