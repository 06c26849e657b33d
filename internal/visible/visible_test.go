package visible

import (
	"testing"
	"unicode/utf8"
)

func TestHiddenCharactersAreShown(t *testing.T) {
	for _, tc := range []struct{ in, str, text string }{
		{"echo hi", "echo hi", "echo hi"},
		{"naïve café ✓ 日本", "naïve café ✓ 日本", "naïve café ✓ 日本"},
		// A carriage return and an erase-line sequence that would print "echo hi" over "rm -rf ~".
		{"rm -rf ~\r\x1b[2Kecho hi", `rm -rf ~\x0d\x1b[2Kecho hi`, `rm -rf ~\x0d\x1b[2Kecho hi`},
		// A right-to-left override: "cat \u202etxt.sh" reads as "cat hs.txt", a script passed off as text.
		{"cat \u202etxt.sh", `cat \u202etxt.sh`, `cat \u202etxt.sh`},
		{"a\u200bb\ufeffc\u2028d\u00ade", `a\u200bb\ufeffc\u2028d\u00ade`, `a\u200bb\ufeffc\u2028d\u00ade`},
		{"bell\a del\x7f c1\u009b", `bell\x07 del\x7f c1\u009b`, `bell\x07 del\x7f c1\u009b`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`, `bad \xff\xfe utf8`},
		{"two\nlines\tand tab", `two\x0alines\x09and tab`, "two\nlines\tand tab"},
	} {
		if got := String(tc.in); got != tc.str {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.str)
		}
		if got := Text(tc.in); got != tc.text {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.text)
		}
	}
}

// Whatever goes in, nothing a terminal acts on comes out.
func FuzzNothingHiddenComesOut(f *testing.F) {
	f.Add("rm -rf ~\r\x1b[2Kecho hi\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{String(s), Text(s)} {
			for i, r := range out {
				if r == utf8.RuneError || hidden(r, true) {
					t.Fatalf("%q: output %q holds %U at %d", s, out, r, i)
				}
			}
		}
	})
}
