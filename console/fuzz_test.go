package console

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// Whatever a recorded answer or a held request holds, highlighting it adds
// no markup but the placeholder marks: the text cannot inject a tag or an
// attribute into the reviewer's page.
func FuzzHighlightEscapes(f *testing.F) {
	for _, s := range []string{"plain", "[REDACTED:aws_access_key_id:a7941b]", `<script>alert(1)</script>`,
		`"><img src=x onerror=alert(1)>`, "[REDACTED:<b>:a7941b]", "&lt;[REDACTED:x:000000]&gt;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := string(highlight(s))
		rest := strings.NewReplacer(`<mark class="masked">`, "", `</mark>`, "").Replace(out)
		if strings.ContainsAny(rest, `<>"'`) {
			t.Fatalf("highlight(%q) = %q leaves markup", s, out)
		}
		if strings.Count(out, "<mark") != len(placeholder.FindAllString(s, -1)) {
			t.Fatalf("highlight(%q) = %q marks other than the placeholders", s, out)
		}
	})
}

// The search form parses any query without panicking, and a status it
// accepts is an HTTP status.
func FuzzParseFilter(f *testing.F) {
	for _, q := range []string{"since=24h&until=2026-12-01T08:00", "status=403&rule=r&caller=1000", "since=%zz", "status=99999"} {
		f.Add(q)
	}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		flt, err := parseFilter(q, now)
		if err == nil && flt.Status != 0 && (flt.Status < 100 || flt.Status > 599) {
			t.Fatalf("%q accepted status %d", raw, flt.Status)
		}
	})
}
