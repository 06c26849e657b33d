package mask

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"unicode/utf8"

	glconfig "github.com/zricethezav/gitleaks/v8/config"
)

// allowlist is a gitleaks allow-list compiled for speed with the same
// answers. gitleaks joins a list's regexes into one alternation, which is
// unanchored as soon as one branch is ((?i)^true|false|null$), so every
// check ran the backtracker from every byte of the secret through every
// branch. Here each top-level branch is its own regexp (an anchored one
// then tries one position), and a branch that every match spells a
// literal in is skipped when the target does not contain it.
type allowlist struct {
	*glconfig.Allowlist
	branches []allowBranch
}

type allowBranch struct {
	re *regexp.Regexp
	// needs: every match contains one of these lower-case strings (nil =
	// none known).
	needs []string
	// first, for a branch anchored at the start, holds the ASCII bytes a
	// match may start with (nil = any).
	first *[256]bool
	// most, for a branch anchored at both ends, bounds the target's runes
	// (-1 = no bound).
	most int
}

// compiledAllowlists caches by list: the global list is in every rule's.
var compiledAllowlists sync.Map // *glconfig.Allowlist → *allowlist

func compileAllowlists(lists []*glconfig.Allowlist) []*allowlist {
	out := make([]*allowlist, len(lists))
	for i, a := range lists {
		if c, ok := compiledAllowlists.Load(a); ok {
			out[i] = c.(*allowlist)
			continue
		}
		c, _ := compiledAllowlists.LoadOrStore(a, compileAllowlist(a))
		out[i] = c.(*allowlist)
	}
	return out
}

func compileAllowlist(a *glconfig.Allowlist) *allowlist {
	c := &allowlist{Allowlist: a}
	for _, re := range a.Regexes {
		c.branches = append(c.branches, splitBranches(re)...)
	}
	return c
}

// splitBranches compiles each top-level branch of re; the whole regexp
// when it has none or a branch does not compile on its own.
func splitBranches(re *regexp.Regexp) []allowBranch {
	whole := []allowBranch{{re: re}}
	tree, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return whole
	}
	for tree.Op == syntax.OpCapture {
		tree = tree.Sub[0]
	}
	alts := []*syntax.Regexp{tree}
	if tree.Op == syntax.OpAlternate {
		alts = tree.Sub
	}
	var out []allowBranch
	for _, alt := range alts {
		b, err := regexp.Compile(alt.String())
		if err != nil {
			return whole
		}
		out = append(out, newAllowBranch(b, alt))
	}
	return out
}

func newAllowBranch(re *regexp.Regexp, t *syntax.Regexp) allowBranch {
	b := allowBranch{re: re, needs: requiredAny(t), most: -1}
	elems := flatten(t)
	if len(elems) < 2 || elems[0].Op != syntax.OpBeginText {
		return b
	}
	var first [256]bool
	if firstBytes(&first, elems[1]) {
		b.first = &first
	}
	if elems[len(elems)-1].Op == syntax.OpEndText {
		b.most = maxRunes(t)
	}
	return b
}

// mayMatch is the branch's cheap necessary conditions on target (low is
// target lower-cased, ascii whether target is ASCII). The literal tests
// are exact only for ASCII targets ((?i)k also matches the Kelvin sign).
func (b *allowBranch) mayMatch(target, low string, ascii bool) bool {
	if b.first != nil && target[0] < 0x80 && !b.first[target[0]] {
		return false
	}
	if b.most >= 0 && len(target) > utf8.UTFMax*b.most || ascii && b.most >= 0 && len(target) > b.most {
		return false
	}
	if b.needs == nil || !ascii {
		return true
	}
	for _, n := range b.needs {
		if strings.Contains(low, n) {
			return true
		}
	}
	return false
}

// requiredAny is a set of lower-case ASCII strings one of which every
// match of t contains (nil when none is known): the most selective of its
// elements' and runs of elements' finite spellings.
func requiredAny(t *syntax.Regexp) []string {
	switch t.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return requiredAny(t.Sub[0])
	case syntax.OpRepeat:
		if t.Min > 0 {
			return requiredAny(t.Sub[0])
		}
		return nil
	case syntax.OpAlternate:
		var out []string
		for _, s := range t.Sub {
			r := requiredAny(s)
			if r == nil {
				return nil
			}
			out = appendNew(out, r...)
		}
		return selective(out)
	case syntax.OpConcat:
		return requiredInConcat(t.Sub)
	}
	if sp, ok := spellings(t); ok {
		return selective(sp)
	}
	return nil
}

func requiredInConcat(elems []*syntax.Regexp) []string {
	var best []string
	for i := range elems {
		best = moreSelective(best, requiredAny(elems[i]))
		for j := i + 2; j <= len(elems); j++ {
			sp, ok := spellings(concat(elems[i:j]))
			if !ok {
				break
			}
			best = moreSelective(best, selective(sp))
		}
	}
	return best
}

// selective keeps a set worth testing: at most 16 strings of 2 bytes or more.
func selective(set []string) []string {
	if len(set) == 0 || len(set) > 16 || shortest(set) < 2 {
		return nil
	}
	return set
}

func moreSelective(a, b []string) []string {
	switch {
	case b == nil:
		return a
	case a == nil:
		return b
	case shortest(b) > shortest(a) || shortest(b) == shortest(a) && len(b) < len(a):
		return b
	}
	return a
}

func shortest(set []string) int {
	n := -1
	for _, s := range set {
		if n < 0 || len(s) < n {
			n = len(s)
		}
	}
	return n
}

// regexAllowed is Allowlist.RegexAllowed; low lower-cases targets once
// for all the lists of one check.
func (a *allowlist) regexAllowed(target string, low *lowered) bool {
	if target == "" {
		return false
	}
	ascii := isASCII(target)
	l := ""
	for i := range a.branches {
		b := &a.branches[i]
		if b.needs != nil && ascii && l == "" {
			l = low.of(target)
		}
		if b.mayMatch(target, l, ascii) && b.re.MatchString(target) {
			return true
		}
	}
	return false
}

// smallStopList is the most stop words containsStopWord tests one by one;
// a longer list goes through gitleaks' own automaton.
const smallStopList = 16

// containsStopWord is Allowlist.ContainsStopWord: some stop word occurs
// in the lower-cased secret.
func (a *allowlist) containsStopWord(secret string, low *lowered) bool {
	if secret == "" || len(a.StopWords) == 0 {
		return false
	}
	if len(a.StopWords) > smallStopList {
		stop, _ := a.ContainsStopWord(secret)
		return stop
	}
	l := low.of(secret)
	for _, w := range a.StopWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// lowered keeps the lower-cased forms of the few strings one check reads
// (secret, match, line): strings.ToLower builds its result byte by byte,
// 4 us for a 1 KiB private key, and each list asked again.
type lowered struct {
	s, low [3]string
	n      int
}

func (l *lowered) of(s string) string {
	for i := 0; i < l.n; i++ {
		if l.s[i] == s {
			return l.low[i]
		}
	}
	low := lowerString(s)
	if l.n < len(l.s) {
		l.s[l.n], l.low[l.n] = s, low
		l.n++
	}
	return low
}

// lowerString is strings.ToLower, faster on ASCII.
func lowerString(s string) string {
	if !isASCII(s) {
		return strings.ToLower(s)
	}
	upper := false
	for i := 0; i < len(s) && !upper; i++ {
		upper = s[i] >= 'A' && s[i] <= 'Z'
	}
	if !upper {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		b[i] = lower(c)
	}
	return string(b)
}

func isASCII[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
