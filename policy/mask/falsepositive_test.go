package mask

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fpCorpusBudget bounds each corpus: a few MB read in file-name order,
// and no more than fpTimeBudget spent masking it.
const (
	fpCorpusBudget = 6 << 20
	fpTimeBudget   = 60 * time.Second
)

// TestFalsePositivesOnEngineeringText masks ordinary engineering text with
// the full rule set: Go files of the standard library (GOROOT/src, test
// data with deliberate keys left out) and this repository's own source and
// docs (its test data holds fake secrets on purpose; lines that say FAKE or
// EXAMPLE carry deliberate fake credentials and do not count). Issue 15
// allows at most one masked item per MB.
func TestFalsePositivesOnEngineeringText(t *testing.T) {
	if testing.Short() {
		t.Skip("reads MBs of source")
	}
	m := newTestMasker(t, Config{})
	for _, c := range []struct{ name, root string }{
		{"Go standard library", filepath.Join(goroot(t), "src")},
		{"this repository", filepath.Join("..", "..")},
	} {
		n, items, secs, samples := maskCorpus(t, m, c.root)
		perMB := float64(items) / (float64(n) / (1 << 20))
		t.Logf("%s: %.1f MB in %.1fs, %d masked items = %.2f per MB", c.name, float64(n)/(1<<20), secs, items, perMB)
		for _, s := range samples[:min(len(samples), 20)] {
			t.Logf("  masked: %s", s)
		}
		if perMB > 1 {
			t.Errorf("%s: %.2f masked items per MB, want at most 1", c.name, perMB)
		}
	}
}

func maskCorpus(t *testing.T, m *Masker, root string) (n, items int, secs float64, samples []string) {
	start := time.Now()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || n >= fpCorpusBudget || time.Since(start) > fpTimeBudget {
			return fs.SkipDir
		}
		if d.IsDir() && path != root && (d.Name() == "testdata" || d.Name() == "vendor" || strings.HasPrefix(d.Name(), ".")) {
			return fs.SkipDir
		}
		if d.IsDir() || !ordinaryText(path) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		n += len(b)
		if _, res := m.Text(string(b), nil); res.Counts != nil {
			k, lines := undeliberate(m, string(b))
			items += k
			samples = append(samples, lines...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, items, time.Since(start).Seconds(), samples
}

// ordinaryText: source and docs, not the fixtures of tests that embed
// secrets or keys on purpose.
func ordinaryText(path string) bool {
	base := filepath.Base(path)
	if strings.HasSuffix(base, "_test.go") {
		return false
	}
	for _, ext := range []string{".go", ".md", ".yaml", ".yml", ".sh", ".c", ".h", ".toml"} {
		if strings.HasSuffix(base, ext) {
			return true
		}
	}
	return false
}

func goroot(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// undeliberate counts the masked items of text outside lines that carry
// this repository's deliberate fake credentials (every one says FAKE or
// EXAMPLE, by the project's rule), and returns those lines.
func undeliberate(m *Masker, text string) (int, []string) {
	n, lines := 0, []string(nil)
	for _, line := range strings.Split(text, "\n") {
		out, res := m.Text(line, nil)
		upper := strings.ToUpper(line)
		if res.Counts == nil || strings.Contains(upper, "FAKE") || strings.Contains(upper, "EXAMPLE") {
			continue
		}
		for _, k := range res.Counts {
			n += k
		}
		lines = append(lines, strings.TrimSpace(out))
	}
	return n, lines
}
