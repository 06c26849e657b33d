package credential

import (
	"strings"
	"testing"
)

func TestStripQuery(t *testing.T) {
	s := NewStripper([]byte("install-key"))
	shaped := func(v string) bool { return strings.Contains(v, "AKIA") }
	cases := []struct{ in, want, class string }{
		{"", "", ClassNone},
		{"beta=true", "beta=true", ClassNone},
		{"beta=true&after_id=a%2Fb&limit=20", "beta=true&after_id=a%2Fb&limit=20", ClassNone},
		{"beta=true&api_key=sk-ant-api03-FAKE", "beta=true", ClassAPIKey},
		{"API_KEY=whatever&beta=true", "beta=true", ClassOther},
		{"x=sk%2Dant%2Dapi03%2DFAKE&y=1", "y=1", ClassAPIKey},
		{"key=abc&access_token=def&token=ghi", "", ClassOther},
		{"note=AKIAIOSFODNN7EXAMPLE&beta=true", "beta=true", ClassOther},
		{"beta=true&sk-ant-oat01-FAKE", "beta=true", ClassOther},
	}
	for _, c := range cases {
		var e Embedded
		e.Class = ClassNone
		if got := s.StripQuery(c.in, &e, shaped); got != c.want || e.Class != c.class {
			t.Errorf("StripQuery(%q) = %q (%s), want %q (%s)", c.in, got, e.Class, c.want, c.class)
		}
	}
}

func TestStripOtherCredentialHeaders(t *testing.T) {
	s := NewStripper([]byte("install-key"))
	h := map[string][]string{"Anthropic-Api-Key": {"sk-ant-api03-FAKE"}, "Api-Key": {"x"}, "X-Goog-Api-Key": {"y"},
		"Cookie": {"session=z"}, "Anthropic-Version": {"2023-06-01"}}
	e := s.Strip(h)
	if len(h) != 1 || e.Class != ClassAPIKey || e.Count != 3 {
		t.Fatalf("left %v, embedded %+v", h, e)
	}
}
