package gateway

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// Bounds of a held request's excerpt: enough for a reviewer to decide,
// small enough for a webhook and a page of many holds.
const (
	excerptSystem = 600
	excerptUser   = 4 << 10
	excerptTools  = 20
)

// heldExcerpt is what a reviewer reads of a held (masked) Messages request:
// its token cap, what the masking pass found, the system prompt and the last
// user turn (its head and its tail when long, so nothing can be padded out
// of sight), and the tools offered. Anything else falls back to the body's
// bytes, head and tail.
func heldExcerpt(body []byte, findings map[string]int) string {
	if !gjson.ValidBytes(body) || !gjson.GetBytes(body, "messages").IsArray() {
		return headTail(string(body), excerptUser)
	}
	var b strings.Builder
	req := gjson.ParseBytes(body)
	msgs := req.Get("messages").Array()
	fmt.Fprintf(&b, "max_tokens: %d", req.Get("max_tokens").Int())
	if req.Get("stream").Bool() {
		b.WriteString(" · stream")
	}
	fmt.Fprintf(&b, " · %d messages", len(msgs))
	if found := foundList(findings); found != "" {
		b.WriteString("\nmasked: " + found)
	}
	if sys := text(req.Get("system")); sys != "" {
		b.WriteString("\nsystem: " + headTail(sys, excerptSystem))
	}
	if user := lastUser(msgs); user != "" {
		b.WriteString("\nuser: " + headTail(user, excerptUser))
	}
	if tools := toolNames(req.Get("tools")); tools != "" {
		b.WriteString("\ntools: " + tools)
	}
	return b.String()
}

// foundList names what masking replaced, sorted: "private_key ×1".
func foundList(findings map[string]int) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(findings)) {
		if n := findings[name]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s ×%d", name, n))
		}
	}
	return strings.Join(parts, ", ")
}

// text joins a content value's text: a plain string or a list of blocks.
func text(v gjson.Result) string {
	if v.Type == gjson.String {
		return v.String()
	}
	var parts []string
	for _, blk := range v.Array() {
		if t := blk.Get("text"); t.Exists() {
			parts = append(parts, t.String())
		}
	}
	return strings.Join(parts, "\n")
}

// turn renders every block of a user turn: its text, and what each tool
// result carries back to the model (an agent's turns are mostly those, and
// a file an agent read is where a secret comes from).
func turn(content gjson.Result) string {
	if content.Type == gjson.String {
		return content.String()
	}
	var parts []string
	for _, blk := range content.Array() {
		switch typ := blk.Get("type").String(); typ {
		case "text":
			parts = append(parts, blk.Get("text").String())
		case "tool_result":
			label := "[tool_result " + blk.Get("tool_use_id").String()
			if blk.Get("is_error").Bool() {
				label += ", error"
			}
			parts = append(parts, strings.TrimSpace(label+"] "+text(blk.Get("content"))))
		default:
			parts = append(parts, "["+typ+"]")
		}
	}
	return strings.Join(parts, "\n")
}

func lastUser(msgs []gjson.Result) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Get("role").String() == "user" {
			return turn(msgs[i].Get("content"))
		}
	}
	return ""
}

func toolNames(tools gjson.Result) string {
	all := tools.Array()
	var names []string
	for _, t := range all[:min(len(all), excerptTools)] {
		names = append(names, t.Get("name").String())
	}
	if len(all) > excerptTools {
		names = append(names, fmt.Sprintf("… (%d in all)", len(all)))
	}
	return strings.Join(names, ", ")
}

// headTail is s whole when it fits in max bytes, else its head and its tail
// around a count of what is left out, cut on rune boundaries.
func headTail(s string, max int) string {
	if len(s) <= max {
		return s
	}
	keep := max / 2
	h, t := validPrefix([]byte(s[:keep])), validSuffix([]byte(s[len(s)-keep:]))
	return fmt.Sprintf("%s [… %d bytes of %d not shown …] %s", h, len(s)-len(h)-len(t), len(s), t)
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// validPrefix and validSuffix drop a rune cut in two at the edge.
func validPrefix(b []byte) []byte {
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		if r, n := utf8.DecodeLastRune(b); r != utf8.RuneError || n > 1 {
			break
		}
		b = b[:len(b)-1]
	}
	return b
}

func validSuffix(b []byte) []byte {
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		if r, n := utf8.DecodeRune(b); r != utf8.RuneError || n > 1 {
			break
		}
		b = b[1:]
	}
	return b
}
