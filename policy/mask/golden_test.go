package mask

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected lines of testdata/mask goldens")

const goldenDir = "../../testdata/mask"

var testKey = []byte("airlock-test-key")

type goldenCase struct {
	positive bool
	input    string
	want     string
}

// TestGolden checks every detector's true and false positive cases: a
// positive must be counted by its own detector, a negative must not, and
// Text must produce exactly the recorded output.
func TestGolden(t *testing.T) {
	m, err := New(Config{Key: testKey, PII: true})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, name := range ownNames() {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(goldenDir, name+".txt")
			cases := readGolden(t, path)
			var positives, negatives int
			for i := range cases {
				c := &cases[i]
				out, res := m.Text(c.input, nil)
				if got := res.Counts[name] > 0; got != c.positive {
					t.Errorf("%s: %q: detector fired = %v, want %v (output %q)", name, c.input, got, c.positive, out)
				}
				if *update {
					c.want = out
				} else if out != c.want {
					t.Errorf("%q:\n got %q\nwant %q", c.input, out, c.want)
				}
				positives, negatives = positives+b2i(c.positive), negatives+b2i(!c.positive)
			}
			if positives == 0 || negatives == 0 {
				t.Errorf("%s: want true and false positive cases, have %d and %d", name, positives, negatives)
			}
			if *update {
				writeGolden(t, path, cases)
			}
			seen[name] = true
		})
	}
	if len(seen) != len(ownNames()) {
		t.Errorf("golden files for %d of %d detectors", len(seen), len(ownNames()))
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func readGolden(t *testing.T, path string) []goldenCase {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if len(line) < 2 {
			continue
		}
		switch line[:2] {
		case "+ ", "- ":
			cases = append(cases, goldenCase{positive: line[0] == '+', input: unescapeGolden(line[2:])})
		case "= ":
			if len(cases) > 0 {
				cases[len(cases)-1].want = unescapeGolden(line[2:])
			}
		}
	}
	return cases
}

func writeGolden(t *testing.T, path string, cases []goldenCase) {
	t.Helper()
	var b strings.Builder
	for _, c := range cases {
		sign := "- "
		if c.positive {
			sign = "+ "
		}
		b.WriteString(sign + escapeGolden(c.input) + "\n= " + escapeGolden(c.want) + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// unescapeGolden turns `\n` into a newline and `\\` into a backslash.
func unescapeGolden(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == 'n' || s[i+1] == '\\') {
			b.WriteByte(map[byte]byte{'n': '\n', '\\': '\\'}[s[i+1]])
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func escapeGolden(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "\n", `\n`)
}
