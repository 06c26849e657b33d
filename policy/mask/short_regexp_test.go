package mask

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"testing"
)

// TestShortFormsAgree: every short form of every detector's regexp (the
// built-ins anchored, gitleaks' rules and their name-prefix cores
// unanchored) finds the same matches and submatches as the full regexp on
// inputs within its bound: gitleaks' cases and noise for each rule, and
// random texts of fake secrets, cut at random lengths.
func TestShortFormsAgree(t *testing.T) {
	samples, rules := ruleSamples(t)
	builtins, err := builtinDetectors()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(21, 22))
	var common []string
	for i := 0; i < 200; i++ {
		common = append(common, randomText(r, 300))
	}
	forms, matches := 0, 0
	check := func(name string, full *regexp.Regexp, short shortForms, texts []string) {
		for _, f := range short {
			forms++
			for _, text := range texts {
				matches += shortAgrees(t, name, full, f, inputsWithin(r, text, f.max))
			}
		}
	}
	for _, d := range builtins {
		check(d.info.Name, d.re, d.short, append(slices.Clone(common), samples[d.info.Name]...))
	}
	for _, d := range rules {
		check(d.info.Name, d.win.re, d.win.short, samples[d.info.Name])
		if d.win.prefix != nil {
			check(d.info.Name+" core", d.win.prefix.core, d.win.prefix.short, samples[d.info.Name])
		}
	}
	t.Logf("%d short forms, %d matches compared", forms, matches)
	if forms < 20 || matches < 3000 {
		t.Fatalf("only %d forms and %d matches: the comparison proves little", forms, matches)
	}
}

// inputsWithin cuts text into inputs of at most max bytes: from each of a
// few starts, the longest that fits and a random shorter one.
func inputsWithin(r *rand.Rand, text string, max int) []string {
	var out []string
	for start := 0; start < len(text); start += 1 + r.IntN(40) {
		end := min(len(text), start+max)
		out = append(out, text[start:end], text[start:start+r.IntN(end-start+1)])
	}
	return out
}

func shortAgrees(t *testing.T, name string, full *regexp.Regexp, f shortForm, inputs []string) (matches int) {
	t.Helper()
	for _, in := range inputs {
		want := full.FindAllStringSubmatchIndex(in, -1)
		got := f.re.FindAllStringSubmatchIndex(in, -1)
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("%s, short form for %d bytes, on %q: %v, full regexp %v", name, f.max, in, got, want)
		}
		matches += len(want)
	}
	return matches
}
