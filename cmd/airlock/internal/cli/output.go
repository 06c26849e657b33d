package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/airlock-dev/airlock/internal/visible"
)

// table prints rows aligned in columns under an upper-case header.
type table struct {
	w    *tabwriter.Writer
	rows int
}

func newTable(out io.Writer, header ...string) *table {
	t := &table{w: tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)}
	fmt.Fprintln(t.w, strings.Join(header, "\t"))
	return t
}

func (t *table) row(cells ...any) {
	parts := make([]string, len(cells))
	for i, c := range cells {
		parts[i] = cell(c)
	}
	fmt.Fprintln(t.w, strings.Join(parts, "\t"))
	t.rows++
}

func (t *table) flush() error { return t.w.Flush() }

// cell formats one value for a terminal: short, never empty.
func cell(v any) string {
	var s string
	switch x := v.(type) {
	case time.Time:
		if x.IsZero() {
			return "-"
		}
		s = x.UTC().Format(time.RFC3339)
	case time.Duration:
		s = x.Round(time.Millisecond).String()
	default:
		s = fmt.Sprint(v)
	}
	// Callers, prompts and tool calls are the watched programs' words: shown,
	// never obeyed by the terminal (see package visible).
	s = visible.String(strings.ReplaceAll(strings.ReplaceAll(s, "\t", " "), "\n", " "))
	if s == "" {
		return "-"
	}
	return s
}

// keyValues prints "key: value" lines aligned on the colon.
func keyValues(out io.Writer, pairs ...any) error {
	w := tabwriter.NewWriter(out, 0, 4, 1, ' ', 0)
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(w, "%s:\t%s\n", pairs[i], cell(pairs[i+1]))
	}
	return w.Flush()
}

// writeJSON prints v as indented JSON for scripts.
func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// truncate shortens s to n runes with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
