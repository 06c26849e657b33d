package gateway

import (
	"strings"
	"testing"
)

func TestExcerptShowsWhatAReviewerNeeds(t *testing.T) {
	long := strings.Repeat("é", 400) // 800 bytes: cut on a rune boundary
	cases := []struct{ name, body, want string }{
		{"messages", `{"model":"m","max_tokens":256,"stream":true,"system":"You are a deploy bot.",
			"messages":[{"role":"user","content":"first"},{"role":"assistant","content":"ok"},
			{"role":"user","content":[{"type":"tool_result","tool_use_id":"t"},{"type":"text","text":"deploy prod now"}]}],
			"tools":[{"name":"Bash"},{"name":"Edit"}]}`,
			"max_tokens: 256 · stream\nsystem: You are a deploy bot.\nuser: deploy prod now\ntools: Bash, Edit"},
		{"system blocks", `{"max_tokens":8,"system":[{"type":"text","text":"a"},{"type":"text","text":"b"}],"messages":[{"role":"user","content":"hi"}]}`,
			"max_tokens: 8\nsystem: a\nb\nuser: hi"},
		{"long user turn", `{"max_tokens":1,"messages":[{"role":"user","content":"` + long + `"}]}`,
			"max_tokens: 1\nuser: " + strings.Repeat("é", 300) + "…"},
		{"not messages", `{"prompt":"x"}`, `{"prompt":"x"}`},
		{"not json", `nope`, `nope`},
	}
	for _, tc := range cases {
		if got := heldExcerpt([]byte(tc.body)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
