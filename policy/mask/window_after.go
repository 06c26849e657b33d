package mask

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// The keyword's suffix check. Most keyword occurrences in real text are
// prose ("the token count"), and a windowed rule's regexp on the whole
// window is the costly part of masking (an unanchored NFA run). A match
// whose keyword element spells string k at ks must continue, at ks+len(k),
// with the elements that follow the keyword in the rule; that part is
// compiled once as an anchored regexp, which fails within a few bytes on
// prose. An occurrence for which no spelling of the keyword element is
// followed by it cannot be the keyword of any match; a match that merely
// contains the occurrence has its own keyword occurrence, whose window
// finds it. So skipping the window loses no match, and the decision still
// depends only on the text.

// afterCheck is the compiled suffix check of one rule.
type afterCheck struct {
	spellings []string       // lower-cased strings the keyword element matches
	re        *regexp.Regexp // the elements after it, anchored
	// The byte-level pre-check of the regexp: the leading elements after
	// the keyword are repetitions of classes (lead, at most leadMax bytes in
	// all) and the next one must start with a byte of first, which lead
	// does not hold ([ \t\w.-]{0,20}[\s'"]{0,3} then = : > ...). Most prose
	// fails it in a few bytes without running the regexp. nil: none.
	lead, first *[256]bool
	leadMax     int
	most        int // runes the check spans at most (-1: unbounded)
}

// readEnd is where the check's input ends: the check reads at most most
// runes from end, and one byte on for an assertion at its end.
func (a *afterCheck) readEnd(end, hi int) int {
	if a.most < 0 {
		return hi
	}
	return min(hi, end+a.most*utf8.UTFMax+1)
}

// maxSpellings bounds the keyword element's string set: beyond it the
// rule runs its window on every occurrence, as without the check.
const maxSpellings = 64

// newAfterCheck derives the check from a rule's syntax tree: the first
// run of top-level elements whose every spelling starts with one of the
// rule's keywords is the keyword element (so every match has a keyword
// occurrence where it starts). nil when there is none.
func newAfterCheck(tree *syntax.Regexp, keywords []string) *afterCheck {
	elems := flatten(tree)
	for j := range elems {
		for i := j; i < len(elems); i++ {
			spell, ok := spellings(&syntax.Regexp{Op: syntax.OpConcat, Sub: elems[j : i+1]})
			if !ok {
				break
			}
			if allStartWithKeyword(spell, keywords) {
				return afterRest(spell, elems[i+1:])
			}
		}
	}
	return nil
}

func afterRest(spell []string, rest []*syntax.Regexp) *afterCheck {
	for len(rest) > 0 && atMostOneByte(rest[0]) && minMatchLen(rest[0]) == 0 {
		rest = rest[1:] // leading assertions read the keyword's last byte: not checkable here
	}
	if len(rest) == 0 {
		return nil
	}
	head, _ := truncate(rest)
	re, err := regexp.Compile(`^(?:` + concat(head).String() + `)`)
	if err != nil {
		return nil
	}
	a := &afterCheck{spellings: spell, re: re, most: maxRunes(concat(head))}
	a.setLead(rest)
	return a
}

// setLead derives the byte-level pre-check from rest, if it has the shape.
func (a *afterCheck) setLead(rest []*syntax.Regexp) {
	var lead, first [256]bool
	most, k := 0, 0
	for ; k < len(rest); k++ {
		t := rest[k]
		if t.Op != syntax.OpRepeat && t.Op != syntax.OpQuest || t.Sub[0].Op != syntax.OpCharClass || t.Op == syntax.OpRepeat && t.Max < 0 {
			break
		}
		addContBytes(&lead, t.Sub[0])
		most += max(t.Max, 1) // runes
	}
	if k == 0 || k == len(rest) || minMatchLen(rest[k]) == 0 || !firstBytes(&first, rest[k]) {
		return
	}
	for c := range first {
		if first[c] && lead[c] {
			return // the boundary between lead and first would not be a byte test
		}
	}
	a.lead, a.first, a.leadMax = &lead, &first, most
}

// firstBytes adds the bytes every match of t may start with; false when
// they are not known (t may be empty, or starts in a way not handled).
func firstBytes(set *[256]bool, t *syntax.Regexp) bool {
	switch t.Op {
	case syntax.OpLiteral:
		addRuneRange(set, t.Rune[0], t.Rune[0], t.Flags&syntax.FoldCase != 0)
		return t.Rune[0] < 0x80
	case syntax.OpCharClass:
		addContBytes(set, t)
		return true
	case syntax.OpCapture, syntax.OpPlus:
		return firstBytes(set, t.Sub[0])
	case syntax.OpRepeat:
		return t.Min > 0 && firstBytes(set, t.Sub[0])
	case syntax.OpConcat:
		return len(t.Sub) > 0 && minMatchLen(t.Sub[0]) > 0 && firstBytes(set, t.Sub[0])
	case syntax.OpAlternate:
		for _, s := range t.Sub {
			if !firstBytes(set, s) {
				return false
			}
		}
		return true
	}
	return false
}

// leadFails: after the lead runes (at most leadMax) the byte that follows
// cannot start the next element, so the regexp cannot match from i. Only
// rune-starting bytes are counted, so the count never exceeds the runes.
func (a *afterCheck) leadFails(buf []byte, i, hi int) bool {
	j, runes := i, 0
	for j < hi && a.lead[buf[j]] {
		if buf[j]&0xC0 != 0x80 {
			if runes++; runes > a.leadMax {
				return true
			}
		}
		j++
	}
	return j < hi && !a.first[buf[j]]
}

// The check keeps repetitions that span at most keepRepeat runes
// ([ \t\w.-]{0,20}, [a-z0-9]{32}); a longer or open one, x{27,300}y,
// becomes x{8} (loosenAt) with nothing after it.
const (
	keepRepeat = 64
	loosenAt   = 8
)

// truncate keeps the start of elems that every match of them begins with,
// within a bounded number of runes: the first long or open repetition
// x{m,n} becomes x{min(m, loosenAt)} and ends the check there. So the
// check stays a necessary condition, its program small, and it reads a
// bounded prefix of the window. cut says whether anything was dropped.
func truncate(elems []*syntax.Regexp) (out []*syntax.Regexp, cut bool) {
	for _, e := range elems {
		t, c := truncateOne(e)
		out = append(out, t)
		if c {
			return out, true
		}
	}
	return out, false
}

func truncateOne(t *syntax.Regexp) (*syntax.Regexp, bool) {
	switch t.Op {
	case syntax.OpStar, syntax.OpPlus, syntax.OpRepeat:
		if m := maxRunes(t); t.Op == syntax.OpRepeat && m >= 0 && m <= keepRepeat {
			return t, false
		}
		if maxRunes(t.Sub[0]) < 0 {
			return &syntax.Regexp{Op: syntax.OpEmptyMatch}, true
		}
		n := min(repeatMin(t), loosenAt)
		return &syntax.Regexp{Op: syntax.OpRepeat, Min: n, Max: n, Sub: t.Sub[:1], Flags: t.Flags}, true
	case syntax.OpCapture, syntax.OpQuest, syntax.OpConcat, syntax.OpAlternate:
		return truncateSubs(t)
	}
	return t, false
}

// truncateSubs truncates a group: a concatenation up to its first cut,
// every branch of an alternation (any cut ends the check after it).
func truncateSubs(t *syntax.Regexp) (*syntax.Regexp, bool) {
	c := *t
	if t.Op == syntax.OpConcat {
		subs, cut := truncate(t.Sub)
		c.Sub = subs
		return &c, cut
	}
	c.Sub = make([]*syntax.Regexp, len(t.Sub))
	cut := false
	for i, s := range t.Sub {
		sub, sc := truncateOne(s)
		c.Sub[i], cut = sub, cut || sc
	}
	return &c, cut
}

func allStartWithKeyword(spell, keywords []string) bool {
	for _, sp := range spell {
		if !slices.ContainsFunc(keywords, func(kw string) bool { return kw != "" && strings.HasPrefix(sp, strings.ToLower(kw)) }) {
			return false
		}
	}
	return len(spell) > 0
}

// flatten lists the elements of the top-level concatenation, entering
// captures and nested concatenations (the check only needs a yes or no).
func flatten(t *syntax.Regexp) []*syntax.Regexp {
	switch t.Op {
	case syntax.OpCapture:
		return flatten(t.Sub[0])
	case syntax.OpConcat:
		var out []*syntax.Regexp
		for _, s := range t.Sub {
			out = append(out, flatten(s)...)
		}
		return out
	}
	return []*syntax.Regexp{t}
}

// spellings is the finite, lower-cased set of strings t matches.
func spellings(t *syntax.Regexp) ([]string, bool) {
	switch t.Op {
	case syntax.OpLiteral:
		lit := string(t.Rune)
		return []string{strings.ToLower(lit)}, !strings.ContainsFunc(lit, func(r rune) bool { return r >= 0x80 })
	case syntax.OpCapture:
		return spellings(t.Sub[0])
	case syntax.OpCharClass:
		return classSpellings(t)
	case syntax.OpAlternate:
		var out []string
		for _, s := range t.Sub {
			sp, ok := spellings(s)
			if !ok {
				return nil, false
			}
			out = appendNew(out, sp...)
		}
		return out, len(out) <= maxSpellings
	case syntax.OpConcat:
		return concatSpellings(t.Sub)
	case syntax.OpQuest:
		sp, ok := spellings(t.Sub[0])
		return appendNew(sp, ""), ok
	case syntax.OpEmptyMatch:
		return []string{""}, true
	}
	return nil, false
}

func concatSpellings(subs []*syntax.Regexp) ([]string, bool) {
	out := []string{""}
	for _, s := range subs {
		sp, ok := spellings(s)
		if !ok || len(out)*len(sp) > maxSpellings {
			return nil, false
		}
		var next []string
		for _, a := range out {
			for _, b := range sp {
				next = appendNew(next, a+b)
			}
		}
		out = next
	}
	return out, true
}

// classSpellings: a small class of ASCII letters in either case ([Aa]).
func classSpellings(t *syntax.Regexp) ([]string, bool) {
	var out []string
	for i := 0; i+1 < len(t.Rune); i += 2 {
		if t.Rune[i+1] >= 0x80 || t.Rune[i+1]-t.Rune[i] > 4 {
			return nil, false
		}
		for r := t.Rune[i]; r <= t.Rune[i+1]; r++ {
			out = appendNew(out, string(rune(lower(byte(r)))))
		}
	}
	return out, len(out) > 0
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		found := false
		for _, l := range list {
			found = found || l == it
		}
		if !found {
			list = append(list, it)
		}
	}
	return list
}

// mayMatch says whether some spelling of the keyword element starts at
// rel (an index into buf) and is followed by the rest of the rule before
// the window's end hi.
func (a *afterCheck) mayMatch(buf []byte, rel, hi int) bool {
	for _, sp := range a.spellings {
		end := rel + len(sp)
		if end <= hi && hasPrefixFold(buf[rel:hi], sp) && (a.lead == nil || !a.leadFails(buf, end, hi)) && a.re.Match(buf[end:a.readEnd(end, hi)]) {
			return true
		}
	}
	return false
}

// hasPrefixFold: b starts with lower-case s, ASCII case-insensitively.
func hasPrefixFold(b []byte, s string) bool {
	if len(b) < len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lower(b[i]) != s[i] {
			return false
		}
	}
	return true
}
