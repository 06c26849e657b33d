// Package visible shows text from the programs Airlock watches to the people
// who review them, without letting it steer what they see.
//
// Process names, command lines, prompts, tool inputs and tool results are
// chosen by the watched programs (or by a model). Printed raw, a carriage
// return or an escape sequence rewrites the reviewer's terminal line, and a
// bidirectional override or a zero-width character makes a command read
// differently from what will run, in a terminal or a browser. Both are shown
// here as escapes a reviewer can see: "\x1b", "\r", "\u202e".
package visible

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String is s with every control character (newlines and tabs too), every
// invisible or reordering format character and every invalid byte escaped.
func String(s string) string { return escape(s, false) }

// Text is String for multi-line text: newlines and tabs stay as they are.
func Text(s string) string { return escape(s, true) }

func escape(s string, keepLines bool) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return hidden(r, keepLines) }) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[0])
		case !hidden(r, keepLines):
			b.WriteString(s[:n])
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		s = s[n:]
	}
	return b.String()
}

// hidden: what a terminal or a browser acts on or hides instead of showing.
// Invalid UTF-8 decodes to utf8.RuneError, which is hidden too (a literal
// U+FFFD is escaped along with it, which is harmless).
func hidden(r rune, keepLines bool) bool {
	if keepLines && (r == '\n' || r == '\t') {
		return false
	}
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || r == utf8.RuneError
}
