package mask

import (
	"regexp"
	"regexp/syntax"
)

// Short forms. Go's backtracker clears a bit per (instruction, input
// position) on every call and steps through x{20,250} as 250 nested
// choices, so a bounded repetition costs on every try even when the
// input is 40 bytes. On an input of at most n bytes (so at most n runes),
// a repetition of something that cannot be empty can repeat at most n
// times: capping its upper bound at n leaves the same paths, in the same
// order of preference, so the same match and submatches. A regexp keeps
// short forms for inputs up to 64 and 256 bytes (TestShortFormsAgree).

// shortForm is a regexp for inputs of at most max bytes.
type shortForm struct {
	max int
	re  *regexp.Regexp
}

// shortForms are a regexp's short forms, shortest first.
type shortForms []shortForm

var shortTiers = []int{64, 256}

// newShortForms compiles tree with its repetitions capped at each tier;
// wrap turns the capped source into the regexp's (anchoring, for one).
// Tiers that cap nothing are left out.
func newShortForms(tree *syntax.Regexp, wrap func(string) string) shortForms {
	var out shortForms
	for _, n := range shortTiers {
		capped, changed := capRepeats(tree, n)
		if !changed {
			continue
		}
		re, err := regexp.Compile(wrap(capped.String()))
		if err != nil {
			continue
		}
		out = append(out, shortForm{max: n, re: re})
	}
	return out
}

// pick is the form to run on an input of n bytes.
func (f shortForms) pick(full *regexp.Regexp, n int) *regexp.Regexp {
	for _, s := range f {
		if n <= s.max {
			return s.re
		}
	}
	return full
}

// capRepeats copies t with x{m,n} lowered to x{m,max} wherever n > max,
// m <= max and x cannot match empty.
func capRepeats(t *syntax.Regexp, max int) (*syntax.Regexp, bool) {
	c := *t
	changed := false
	if len(t.Sub) > 0 {
		c.Sub = make([]*syntax.Regexp, len(t.Sub))
		for i, s := range t.Sub {
			var ch bool
			c.Sub[i], ch = capRepeats(s, max)
			changed = changed || ch
		}
	}
	if c.Op == syntax.OpRepeat && c.Max > max && c.Min <= max && minMatchLen(c.Sub[0]) > 0 {
		c.Max, changed = max, true
	}
	return &c, changed
}

func anchor(src string) string { return `^(?:` + src + `)` }

func asIs(src string) string { return src }
