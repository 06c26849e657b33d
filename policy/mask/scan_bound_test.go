package mask

import (
	"math/rand/v2"
	"testing"
)

// TestMatchBoundHoldsEveryMatch: decide skips an anchored candidate whose
// matchBound does not pass the best match so far, so every match the
// candidate's regexp finds must end within that bound. Checked for every
// anchored detector (PII ones included) at every position of random texts
// of fake secrets and keyword fragments and of gitleaks' cases.
func TestMatchBoundHoldsEveryMatch(t *testing.T) {
	m := newTestMasker(t, Config{PII: true, CacheEntries: -1})
	e := m.engine.Load().e
	r := rand.New(rand.NewPCG(19, 20))
	var texts []string
	for i := 0; i < 300; i++ {
		texts = append(texts, randomText(r, 400))
	}
	for _, c := range gitleaksCases(t) {
		for _, tp := range c.TPs {
			texts = append(texts, tp.Text)
		}
	}
	matches := 0
	for _, text := range texts {
		matches += boundsHold(t, e, text)
	}
	if matches < 3000 {
		t.Fatalf("only %d matches: the bound was hardly tried", matches)
	}
}

// boundsHold tries every anchored detector at every position of text, as
// try would, and returns how many matched.
func boundsHold(t *testing.T, e *engine, text string) (matches int) {
	s := newScanner(e, e.all)
	s.feedString(text)
	for i := 0; i < len(text); i++ {
		for det, d := range e.detectors {
			if d.win != nil || d.exact {
				continue
			}
			bound, ok := s.matchBound(candidate{det: det, kw: -1}, i, true)
			m := s.try(candidate{det: det, kw: -1}, i, true)
			if !ok {
				t.Fatalf("%s at %d: no bound on a whole text", d.info.Name, i)
			}
			if m.isMatching {
				matches++
				if m.end > bound {
					t.Fatalf("%s matches %q past its bound %d", d.info.Name, text[i:m.end], bound-i)
				}
			}
		}
	}
	return matches
}

// TestPasswordReachHoldsEveryMatch: password_assignment's window ends
// where passwordReach says, so every match of its regexp on the whole
// window must end there or before. Checked at every position of random
// texts, gitleaks' cases and assignments padded with blanks everywhere a
// blank may go.
func TestPasswordReachHoldsEveryMatch(t *testing.T) {
	builtins, err := builtinDetectors()
	if err != nil {
		t.Fatal(err)
	}
	var d *detector
	for _, b := range builtins {
		if b.info.Name == "password_assignment" {
			d = b
		}
	}
	r := rand.New(rand.NewPCG(25, 26))
	texts := []string{"password \t string \t = \t hunter2 and more", "token\t,\t x", `"secret" ,  "v4lue99" then words`}
	for i := 0; i < 300; i++ {
		texts = append(texts, randomText(r, 400), assignmentNoise(r, passwordKeywords))
	}
	for _, c := range gitleaksCases(t) {
		for _, tp := range c.TPs {
			texts = append(texts, tp.Text)
		}
	}
	matches := 0
	for _, text := range texts {
		for i := range text {
			win := text[i:min(len(text), i+d.maxLen+1)]
			loc := d.re.FindStringSubmatchIndex(win)
			if loc == nil {
				continue
			}
			matches++
			if reach := passwordReach([]byte(win[:min(len(win), d.maxLen)])); loc[1] > reach {
				t.Fatalf("password_assignment matches %q, past its reach %d", win[:loc[1]], reach)
			}
		}
	}
	if matches < 500 {
		t.Fatalf("only %d matches: the reach was hardly tried", matches)
	}
}
