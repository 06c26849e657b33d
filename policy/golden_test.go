package policy

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the expected parts of testdata/policy golden files")

// Golden files in testdata/policy: a policy, then sections introduced by
// `--- request` (a Sample, optionally with "consume_tokens" charged after the
// decision) each followed by `--- decision`, or a single `--- problems`.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("../testdata/policy/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) { runGolden(t, f) })
	}
}

type section struct{ name, body string }

func splitSections(src string) (string, []section) {
	parts := strings.Split(src, "\n--- ")
	var out []section
	for _, p := range parts[1:] {
		name, body, _ := strings.Cut(p, "\n")
		out = append(out, section{strings.TrimSpace(name), body})
	}
	return parts[0] + "\n", out
}

func runGolden(t *testing.T, file string) {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	policySrc, secs := splitSections(string(raw))
	clock := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	e, cerr := Compile([]byte(policySrc), Options{Now: func() time.Time { return clock }})
	var got strings.Builder
	got.WriteString(strings.TrimSuffix(policySrc, "\n"))
	for _, s := range secs {
		switch s.name {
		case "problems":
			fmt.Fprintf(&got, "\n--- problems\n%s\n", problemsText(cerr))
		case "request":
			if cerr != nil {
				t.Fatalf("policy does not compile: %v", cerr)
			}
			fmt.Fprintf(&got, "\n--- request\n%s\n", strings.TrimSpace(s.body))
			fmt.Fprintf(&got, "--- decision\n%s\n", decideSample(t, e, s.body))
		}
	}
	compareGolden(t, file, string(raw), got.String())
}

func problemsText(err error) string {
	if err == nil {
		return "(none)"
	}
	return err.Error()
}

func decideSample(t *testing.T, e *Engine, body string) string {
	in, err := ParseSample([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	var extra struct {
		Consume int64 `json:"consume_tokens"`
	}
	json.Unmarshal([]byte(body), &extra)
	d := e.Decide(in)
	e.Consume(d, &in.Caller, extra.Consume)
	return renderDecision(d)
}

func renderDecision(d Decision) string {
	s := fmt.Sprintf("%s rule=%s", d.Action, d.Rule)
	if d.Credential != "" {
		s += " credential=" + d.Credential
	}
	s += " record=" + string(d.Record)
	if d.Denial != nil {
		s += fmt.Sprintf(" kind=%s", d.Denial.Kind)
		if d.RetryAfter > 0 {
			s += " retry_after=" + d.RetryAfter.String()
		}
		s += "\nmessage: " + d.Denial.Message
	} else if d.Reason != "" {
		s += "\nreason: " + d.Reason
	}
	return s
}

func compareGolden(t *testing.T, file, want, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if strings.TrimSpace(want) != strings.TrimSpace(got) {
		t.Errorf("%s: mismatch (go test ./policy -run TestGolden -update to accept)\n--- want\n%s\n--- got\n%s", file, want, got)
	}
}
