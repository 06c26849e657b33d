package gateway

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// Bounds of a held request's excerpt: enough for a reviewer to decide,
// small enough for a webhook and a page of many holds.
const (
	excerptSystem = 300
	excerptUser   = 600
	excerptTools  = 20
)

// heldExcerpt is what a reviewer reads of a held (masked) Messages request:
// its token cap, the start of the system prompt, the last user turn and the
// tools offered. Anything else falls back to the body's first bytes.
func heldExcerpt(body []byte) string {
	if !gjson.ValidBytes(body) || !gjson.GetBytes(body, "messages").IsArray() {
		return summary(body)
	}
	var b strings.Builder
	req := gjson.ParseBytes(body)
	fmt.Fprintf(&b, "max_tokens: %d", req.Get("max_tokens").Int())
	if req.Get("stream").Bool() {
		b.WriteString(" · stream")
	}
	if sys := text(req.Get("system")); sys != "" {
		b.WriteString("\nsystem: " + clip(sys, excerptSystem))
	}
	if user := lastUser(req.Get("messages")); user != "" {
		b.WriteString("\nuser: " + clip(user, excerptUser))
	}
	if tools := toolNames(req.Get("tools")); tools != "" {
		b.WriteString("\ntools: " + tools)
	}
	return b.String()
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

func lastUser(messages gjson.Result) string {
	msgs := messages.Array()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Get("role").String() == "user" {
			if t := text(msgs[i].Get("content")); t != "" {
				return t
			}
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
