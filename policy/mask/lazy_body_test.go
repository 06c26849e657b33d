package mask

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// lazyRule is the default rule that takes the lazy-body path (private-key).
func lazyRule(t testing.TB) *detector {
	t.Helper()
	rules, err := defaultRules()
	if err != nil {
		t.Fatal(err)
	}
	var found *detector
	for _, d := range rules {
		if d.win.lazy != nil {
			if found != nil {
				t.Fatalf("two default rules take the lazy-body path (%s, %s): extend the tests", found.info.Name, d.info.Name)
			}
			found = d
		}
	}
	if found == nil || found.info.Name != "private-key" {
		t.Fatalf("private-key does not take the lazy-body path (found %v)", found)
	}
	return found
}

// pemNoise strings PEM heads, bodies and tails so that heads have several
// readings (PRIVATE KEY----- inside the run before PRIVATE KEY), bodies
// fall on both sides of the 64-rune minimum, and tails come in every case,
// with or without BLOCK, and broken.
func pemNoise(r *rand.Rand) string {
	pick := func(list ...string) string { return list[r.IntN(len(list))] }
	var b strings.Builder
	for k := 0; k < 3+r.IntN(10); k++ {
		switch r.IntN(4) {
		case 0: // a head
			b.WriteString(pick("-----BEGIN", "-----begin", "-----BeGiN", "----BEGIN"))
			for j := r.IntN(4); j > 0; j-- {
				b.WriteString(pick(" RSA", " ", "PRIVATE KEY", "PRIVATE KEY-----", "_", "x", "-----", "private key BLOCK"))
			}
			b.WriteString(pick("PRIVATE KEY", "private key", "PRIVATE  KEY") + pick("", " BLOCK", " block") + pick("-----", "----", "-----\n"))
		case 1, 2: // a body
			for n := r.IntN(90); n > 0; {
				v := randomValue(r)
				v = v[:min(n, len(v))] + pick("", "\n", "\r\n", " ")
				b.WriteString(v)
				n -= len(v)
			}
		default: // a tail
			b.WriteString(pick("-----END ", "", "\n") + pick("RSA ", "") + pick("PRIVATE ", "") + pick("KEY", "key", "KeY", "KE") + pick("", " BLOCK", " block") + pick("-----", "----", "-----\n"))
		}
	}
	return b.String()
}

// lazyAgrees compares the lazy path with the rule's own regexp on win at
// limits where the answer changes (around each match's start) and a few
// others: the matches starting before the limit must be the regexp's, in
// order.
func lazyAgrees(t testing.TB, d *detector, win []byte) (matches int) {
	all := d.win.re.FindAllSubmatchIndex(win, -1)
	limits := []int{0, len(win)}
	for _, loc := range all {
		limits = append(limits, loc[0], loc[0]+1, loc[1])
	}
	for k := 3; k < len(win); k += 17 {
		limits = append(limits, k)
	}
	for _, limit := range limits {
		got, ok := d.win.lazy.find(win, limit)
		if !ok {
			if isASCII(win) {
				t.Fatalf("lazy path refused the ASCII window %q", win)
			}
			return 0
		}
		want := slices.DeleteFunc(slices.Clone(all), func(loc []int) bool { return loc[0] >= limit })
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("%s on %q (limit %d): lazy path %v, regexp %v", d.info.Name, win, limit, got, want)
		}
	}
	return len(all)
}

// TestLazyBodyAgreesWithRegexp: on gitleaks' own cases of the rule, on
// assignment noise with its keywords and on PEM-shaped noise, the lazy
// path finds exactly the matches of the rule's regexp. It also counts the
// matches that only a less preferred head completes (the short-prefix
// fallback), so the hard case is shown to be tried.
func TestLazyBodyAgreesWithRegexp(t *testing.T) {
	d := lazyRule(t)
	samples, _ := ruleSamples(t)
	r := rand.New(rand.NewPCG(11, 12))
	texts := samples[d.info.Name]
	for i := 0; i < 12000; i++ {
		texts = append(texts, pemNoise(r))
	}
	texts = append(texts, secretDenseText(8<<10))
	matches, fallback := 0, 0
	for _, s := range texts {
		matches += lazyAgrees(t, d, []byte(s))
		fallback += lessPreferredMatches(d.win.lazy, []byte(s))
	}
	t.Logf("%d texts, %d matches, %d of them through a less preferred head", len(texts), matches, fallback)
	if matches < 500 || fallback < 10 {
		t.Fatalf("only %d matches (%d through a less preferred head): the comparison proves little", matches, fallback)
	}
}

// lessPreferredMatches counts the starts where the preferred head has no
// completion and the rule still matches.
func lessPreferredMatches(l *lazyBody, win []byte) int {
	n := 0
	for s := range win {
		h := l.head.FindIndex(win[s:])
		if h == nil || !isASCII(win) {
			continue
		}
		if _, ok := l.tailFrom(win, s+h[1]+l.min); !ok && l.whole.Match(win[s:]) {
			n++
		}
	}
	return n
}

// FuzzLazyBodyAgreesWithRegexp: any text, every limit: the lazy path and
// the private-key rule's regexp find the same matches.
func FuzzLazyBodyAgreesWithRegexp(f *testing.F) {
	r := rand.New(rand.NewPCG(13, 14))
	for i := 0; i < 8; i++ {
		f.Add(pemNoise(r))
	}
	f.Add("-----BEGIN PRIVATE KEY PRIVATE KEY-----" + strings.Repeat("A", 50) + "KEY-----" + strings.Repeat("B", 20) + "key block-----")
	d := lazyRule(f)
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) <= 2048 {
			lazyAgrees(t, d, []byte(s))
		}
	})
}
