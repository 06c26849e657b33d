package doctor

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Report is every check that ran; OK when none failed.
type Report struct {
	OK     bool    `json:"ok"`
	Checks []Check `json:"checks"`
}

// Failed counts the failed checks.
func (r Report) Failed() int {
	n := 0
	for _, c := range r.Checks {
		if c.Result == Fail {
			n++
		}
	}
	return n
}

// WriteText prints the table, then a fix for each check that needs one.
func (r Report) WriteText(out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SECTION\tCHECK\tRESULT\tDETAIL")
	for _, c := range r.Checks {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", c.Section, c.Name, c.Result, orDash(truncate(oneLine(c.Detail), 100)))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	first := true
	for _, c := range r.Checks {
		if c.Fix == "" || c.Result == OK || c.Result == Skip {
			continue
		}
		if first {
			fmt.Fprintln(out, "\nFixes:")
			first = false
		}
		fmt.Fprintf(out, "  %s %s (%s)\n    problem: %s\n    fix:     %s\n", c.Section, c.Name, c.Result, oneLine(c.Detail), oneLine(c.Fix))
	}
	return nil
}

// oneLine folds s onto one line with single spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ")), " ")
}

// truncate shortens s to n runes with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
