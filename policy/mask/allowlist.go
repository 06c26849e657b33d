package mask

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"

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
	re   *regexp.Regexp
	need string // lower-case literal every match contains ("" = none known)
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
		out = append(out, allowBranch{re: b, need: requiredLiteral(alt)})
	}
	return out
}

// requiredLiteral is the literal text every match of t starts with, after
// leading assertions, if it is at least 3 bytes of ASCII.
func requiredLiteral(t *syntax.Regexp) string {
	elems := flatten(t)
	for len(elems) > 0 && atMostOneByte(elems[0]) && minMatchLen(elems[0]) == 0 {
		elems = elems[1:]
	}
	p := litPrefix(&syntax.Regexp{Op: syntax.OpConcat, Sub: elems})
	if len(p) < 3 || strings.ContainsFunc(p, func(r rune) bool { return r >= 0x80 }) {
		return ""
	}
	return p
}

// regexAllowed is Allowlist.RegexAllowed. The literal test is exact only
// for ASCII targets ((?i)k also matches the Kelvin sign), so any other
// target runs every branch.
func (a *allowlist) regexAllowed(target string) bool {
	if target == "" {
		return false
	}
	ascii := isASCII(target)
	low := ""
	for _, b := range a.branches {
		if b.need != "" && ascii {
			if low == "" {
				low = strings.ToLower(target)
			}
			if !strings.Contains(low, b.need) {
				continue
			}
		}
		if b.re.MatchString(target) {
			return true
		}
	}
	return false
}

func isASCII[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
