package mask

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// defaultAllowlists lists every allow-list of the default rules, each once.
func defaultAllowlists(t testing.TB) []*allowlist {
	t.Helper()
	rules, err := defaultRules()
	if err != nil {
		t.Fatal(err)
	}
	var lists []*allowlist
	for _, d := range rules {
		for _, a := range d.win.allowlists {
			if !slices.Contains(lists, a) {
				lists = append(lists, a)
			}
		}
	}
	return lists
}

// defaultAllowBranches lists every branch of every allow-list of the
// default rules.
func defaultAllowBranches(t testing.TB) []*allowBranch {
	var out []*allowBranch
	for _, a := range defaultAllowlists(t) {
		for i := range a.branches {
			out = append(out, &a.branches[i])
		}
	}
	return out
}

// allowTargets are what allow-lists are asked about: gitleaks' cases
// whole, and the secret, match and line of every match of every default
// rule in them, as they are and with their case changed.
func allowTargets(t *testing.T) []string {
	rules, _ := defaultRules()
	byID := map[string]*detector{}
	for _, d := range rules {
		byID[d.info.Name] = d
	}
	var out []string
	for _, c := range gitleaksCases(t) {
		texts := slices.Clone(c.FPs)
		for _, tp := range c.TPs {
			texts = append(texts, tp.Text)
		}
		for _, text := range texts {
			out = append(out, text)
			if d := byID[c.ID]; d != nil {
				out = append(out, matchTargets(d.win, text)...)
			}
		}
	}
	for _, s := range slices.Clone(out) {
		if len(s) <= 256 {
			out = append(out, strings.ToUpper(s), strings.ToLower(s))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func matchTargets(w *winRule, text string) []string {
	var out []string
	for _, loc := range w.re.FindAllStringSubmatchIndex(text, -1) {
		vs, ve := secretBounds(w, loc)
		ls, le := lineAround([]byte(text), loc[0], loc[1])
		out = append(out, text[vs:ve], text[loc[0]:loc[1]], text[ls:le])
	}
	return out
}

// TestAllowBranchChecksKeepEveryMatch: the cheap tests in front of each
// allow-list branch (a literal one of which every match contains, the
// first byte and the length of an anchored branch) never turn away a
// target the branch's regexp matches.
func TestAllowBranchChecksKeepEveryMatch(t *testing.T) {
	branches := defaultAllowBranches(t)
	matched, skipped := map[*allowBranch]bool{}, 0
	targets := allowTargets(t)
	for _, target := range targets {
		n, s := allowChecksAgree(t, branches, target)
		skipped += s
		for _, b := range n {
			matched[b] = true
		}
	}
	t.Logf("%d targets, %d branches, %d matched by some target, %d checks settled without the regexp", len(targets), len(branches), len(matched), skipped)
	if len(matched) < len(branches)/3 {
		t.Fatalf("only %d of %d branches matched any target: the comparison proves little", len(matched), len(branches))
	}
}

// allowChecksAgree fails the test if a check turns away a target the
// branch matches; it returns the branches that match and how many checks
// turned the target away.
func allowChecksAgree(t testing.TB, branches []*allowBranch, target string) (matched []*allowBranch, skipped int) {
	if target == "" {
		return nil, 0
	}
	low, ascii := strings.ToLower(target), isASCII(target)
	for _, b := range branches {
		may := b.mayMatch(target, low, ascii)
		if !may {
			skipped++
		}
		if b.re.MatchString(target) {
			if !may {
				t.Fatalf("branch %s matches %q but its checks turn it away", b.re, target)
			}
			matched = append(matched, b)
		}
	}
	return matched, skipped
}

// TestStopWordsAgree: containsStopWord answers as gitleaks' own
// ContainsStopWord for every list of the default rules (short lists are
// tested word by word on a shared lower-cased copy), and lowerString as
// strings.ToLower.
func TestStopWordsAgree(t *testing.T) {
	lists := defaultAllowlists(t)
	hits := 0
	for _, target := range append(allowTargets(t), "Kelvin \u212Aey", "ÀÉÎ FAKE", "\xffNOT UTF-8 EXAMPLE") {
		hits += stopWordsAgree(t, lists, target)
	}
	if hits < 1000 {
		t.Fatalf("only %d stop-word hits: the comparison proves little", hits)
	}
}

func stopWordsAgree(t testing.TB, lists []*allowlist, target string) (hits int) {
	if got, want := lowerString(target), strings.ToLower(target); got != want {
		t.Fatalf("lowerString(%q) = %q, want %q", target, got, want)
	}
	var low lowered
	for _, a := range lists {
		want, _ := a.ContainsStopWord(target)
		if got := a.containsStopWord(target, &low); got != want {
			t.Fatalf("stop words of a %d-word list on %q: %v, gitleaks says %v", len(a.StopWords), target, got, want)
		}
		if want {
			hits++
		}
	}
	return hits
}

// FuzzAllowBranchChecks: any target: the checks never turn away a match,
// and stop words answer as gitleaks' own test.
func FuzzAllowBranchChecks(f *testing.F) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, s := range []string{"true", "$API_KEY", "${{ secrets.TOKEN }}", "/Users/me/x", "KEY_FILE", "csrf-token", "Kelvin \u212Aey", "\u212A\u212A", "ſſſ", "%s", "{12}", "@FOO@"} {
		f.Add(s)
	}
	f.Add(assignmentNoise(r, []string{"key", "token"}))
	branches, lists := defaultAllowBranches(f), defaultAllowlists(f)
	f.Fuzz(func(t *testing.T, target string) {
		allowChecksAgree(t, branches, target)
		stopWordsAgree(t, lists, target)
	})
}
