package intercept

import (
	"strings"
	"testing"
)

func TestDecide(t *testing.T) {
	c := Config{APIHosts: []string{"api.anthropic.com"}, RelayAllow: []string{"Claude.AI."}}
	tests := []struct {
		sni  string
		want verdict
	}{
		{"api.anthropic.com", verdictAPI},
		{"API.Anthropic.COM.", verdictAPI},
		{"claude.ai", verdictRelay},
		{"claude.ai.", verdictRelay},
		{"api.anthropic.com..", verdictRefuse}, // one trailing dot only
		{"other.example", verdictRefuse},
		{"api.anthropic.com.evil", verdictRefuse},
		{"", verdictRefuse},
		{".", verdictRefuse},
	}
	for _, tt := range tests {
		if got := c.decide(NormalizeSNI(tt.sni)); got != tt.want {
			t.Errorf("decide(%q) = %d, want %d", tt.sni, got, tt.want)
		}
	}
}

// FuzzSNIDecision: whatever the SNI, only a configured API host (modulo
// case and one trailing dot) is intercepted, only an allow-listed one is
// relayed, and the decision does not depend on case or that dot.
func FuzzSNIDecision(f *testing.F) {
	for _, s := range []string{"api.anthropic.com", "API.ANTHROPIC.COM.", "claude.ai", "x..", "", "\x00", "İ.com"} {
		f.Add(s)
	}
	c := Config{APIHosts: []string{"api.anthropic.com"}, RelayAllow: []string{"claude.ai"}}
	f.Fuzz(func(t *testing.T, sni string) {
		n := NormalizeSNI(sni)
		v := c.decide(n)
		switch v {
		case verdictAPI:
			if n != "api.anthropic.com" {
				t.Fatalf("%q intercepted as the API", sni)
			}
		case verdictRelay:
			if n != "claude.ai" {
				t.Fatalf("%q relayed", sni)
			}
		}
		if NormalizeSNI(n) != n && strings.HasSuffix(n, ".") && v != verdictRefuse {
			t.Fatalf("%q: a second trailing dot was accepted", sni)
		}
		if w := c.decide(NormalizeSNI(strings.ToUpper(sni))); strings.EqualFold(strings.ToUpper(sni), sni) && w != v {
			t.Fatalf("%q: decision depends on case (%d vs %d)", sni, v, w)
		}
	})
}

func TestRandomMark(t *testing.T) {
	seen := map[uint32]bool{}
	for range 64 {
		m := RandomMark()
		if m == 0 || m&0xc000 != 0 {
			t.Fatalf("RandomMark() = %#x: zero or a kube-proxy bit", m)
		}
		seen[m] = true
	}
	if len(seen) < 60 {
		t.Errorf("64 draws gave %d distinct marks", len(seen))
	}
}
