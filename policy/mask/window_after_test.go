package mask

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// ruleSamples are windows for each default rule: gitleaks' own true and
// false positives of the rule, the same between random assignment-shaped
// noise, and noise alone, built from the rule's keywords.
func ruleSamples(t *testing.T) (map[string][]string, []*detector) {
	t.Helper()
	rules, err := defaultRules()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	out := map[string][]string{}
	for _, c := range gitleaksCases(t) {
		var texts []string
		for _, tp := range c.TPs {
			texts = append(texts, tp.Text)
		}
		for _, s := range append(texts, c.FPs...) {
			out[c.ID] = append(out[c.ID], s, assignmentNoise(r, []string{"x"})+s+assignmentNoise(r, []string{"y"}))
		}
	}
	for _, d := range rules {
		for i := 0; i < 40; i++ {
			out[d.info.Name] = append(out[d.info.Name], assignmentNoise(r, d.keywords))
		}
	}
	return out, rules
}

// TestNamePrefixAgreesWithRegexp: for every default rule that starts with
// a lazy name run, the core plus the walk back finds exactly the matches
// (and submatches) of the rule's own regexp.
func TestNamePrefixAgreesWithRegexp(t *testing.T) {
	samples, rules := ruleSamples(t)
	n, matches := 0, 0
	for _, d := range rules {
		w := d.win
		if w.prefix == nil {
			continue
		}
		n++
		for _, sample := range samples[d.info.Name] {
			win := []byte(sample)
			want := w.re.FindAllSubmatchIndex(win, -1)
			matches += len(want)
			if got := w.prefix.find(win, -1); !slices.EqualFunc(got, want, slices.Equal) {
				t.Fatalf("%s on %q: core %v, regexp %v", d.info.Name, win, got, want)
			}
		}
	}
	if matches < 1000 {
		t.Fatalf("only %d matches in the samples: the comparison proves little", matches)
	}
	if n < 90 {
		t.Fatalf("only %d rules use the name prefix, want the semi-generic ones (90+)", n)
	}
}

// TestAfterCheckKeepsEveryMatch: the suffix check never rejects an
// occurrence that is the keyword of a match of the rule's regexp.
func TestAfterCheckKeepsEveryMatch(t *testing.T) {
	samples, rules := ruleSamples(t)
	matches := 0
	for _, d := range rules {
		if d.win.after == nil {
			continue
		}
		for _, sample := range samples[d.info.Name] {
			win := []byte(sample)
			for _, loc := range d.win.re.FindAllSubmatchIndex(win, -1) {
				matches++
				if !afterAtSomeKeyword(d, win, loc[0], loc[1]) {
					t.Fatalf("%s: the check rejects every occurrence in match %q", d.info.Name, win[loc[0]:loc[1]])
				}
			}
		}
	}
	if matches < 1000 {
		t.Fatalf("only %d matches in the samples: the check was hardly tried", matches)
	}
}

// afterAtSomeKeyword: at some occurrence of one of the rule's keywords in
// the match [from, to) the check passes, as the scanner runs it (up to the
// window's end, here the match's).
func afterAtSomeKeyword(d *detector, win []byte, from, to int) bool {
	for ks := from; ks < to; ks++ {
		for _, kw := range d.keywords {
			if hasPrefixFold(win[ks:to], strings.ToLower(kw)) && d.win.after.mayMatch(win, ks, to) {
				return true
			}
		}
	}
	return false
}

// assignmentNoise strings names, keywords, operators, quotes and values.
func assignmentNoise(r *rand.Rand, keywords []string) string {
	parts := []string{"_", "-", ".", "DB", "my", "client", "id", " ", "\n", "\t", ";", "'", "\"", "=", ":", " = ", ": ", "=>", ":=", "?=", ",", "é", "#"}
	var b strings.Builder
	for k := 0; k < 24; k++ {
		switch x := r.IntN(10); {
		case x < 3:
			kw := keywords[r.IntN(len(keywords))]
			if r.IntN(2) == 0 {
				kw = strings.ToUpper(kw)
			}
			b.WriteString(kw)
		case x < 5:
			b.WriteString(randomValue(r))
		default:
			b.WriteString(parts[r.IntN(len(parts))])
		}
	}
	return b.String()
}

func randomValue(r *rand.Rand) string {
	const alpha = "abcdef0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZghijklmnopqrstuvwxyz_-+/="
	n := 4 + r.IntN(70)
	v := make([]byte, n)
	for i := range v {
		v[i] = alpha[r.IntN(len(alpha))]
	}
	return string(v)
}
