package mask

import (
	"math"
	"math/rand/v2"
	"testing"
)

// shannonReference is the entropy as gitleaks writes it: a loop over every
// byte value's count.
func shannonReference(s string) float64 {
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// TestShannonIsBitExact: entropy thresholds decide matches, so the faster
// sum must give the same float64 to the last bit, on random strings of
// every length and alphabet and on gitleaks' secrets.
func TestShannonIsBitExact(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	var samples []string
	for i := 0; i < 20000; i++ {
		b := make([]byte, r.IntN(200))
		span := 1 + r.IntN(256)
		for k := range b {
			b[k] = byte(r.IntN(span))
		}
		samples = append(samples, string(b))
	}
	for _, c := range gitleaksCases(t) {
		for _, tp := range c.TPs {
			samples = append(samples, tp.Secrets...)
		}
	}
	for _, s := range samples {
		if got, want := shannon(s), shannonReference(s); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("shannon(%q) = %v, want %v", s, got, want)
		}
		if got := shannon([]byte(s)); math.Float64bits(got) != math.Float64bits(shannonReference(s)) {
			t.Fatalf("shannon([]byte(%q)) = %v", s, got)
		}
	}
}

// TestEntropyBoundsDecideAsTheSum: entropyAtMost answers as shannon(s) <=
// limit for every limit gitleaks' rules use, on random strings, on strings
// whose entropy is exactly a limit (2^k bytes equally often) or its
// neighbour, and on gitleaks' secrets.
func TestEntropyBoundsDecideAsTheSum(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	var samples []string
	for i := 0; i < 20000; i++ {
		b := make([]byte, 1+r.IntN(120))
		span := 1 + r.IntN(96)
		for k := range b {
			b[k] = byte(33 + r.IntN(span))
		}
		samples = append(samples, string(b))
	}
	for k := 1; k <= 64; k++ { // k distinct bytes, each 1..3 times: entropy log2(k) exactly
		for rep := 1; rep <= 3; rep++ {
			var b []byte
			for c := 0; c < k; c++ {
				for j := 0; j < rep; j++ {
					b = append(b, byte('!'+c))
				}
			}
			samples = append(samples, string(b), string(b)+"!", string(b[1:]))
		}
	}
	for _, c := range gitleaksCases(t) {
		for _, tp := range c.TPs {
			samples = append(samples, tp.Secrets...)
		}
	}
	limits := []float64{1, 2, 2.75, 3, 3.5, 3.8, 4, 4.5, 5, 6}
	for _, s := range samples {
		for _, limit := range limits {
			if got, want := entropyAtMost(s, limit), shannon(s) <= limit; got != want {
				t.Fatalf("entropyAtMost(%q, %v) = %v, the sum says %v (%v)", s, limit, got, want, shannon(s))
			}
		}
	}
}
