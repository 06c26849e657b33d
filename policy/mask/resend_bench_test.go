package mask

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// claudeCodeBody is shaped like Claude Code's POST /v1/messages: a system
// prompt of text blocks (with cache_control), ~20 tool definitions with
// JSON schemas, and a conversation of turns tool calls and results, about
// 50 KB at turns=12. Its prose uses the words that trip keyword prefilters
// (token, secret, password, key) as real instructions do.
func claudeCodeBody(turns int) []byte {
	prose := proseText(12 << 10)
	system := []any{
		map[string]any{"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
		map[string]any{"type": "text", "text": "Never commit secrets, API keys or passwords; refuse to print a token. " + prose,
			"cache_control": map[string]any{"type": "ephemeral"}},
	}
	var tools []any
	for i := 0; i < 20; i++ {
		tools = append(tools, map[string]any{"name": fmt.Sprintf("Tool%d", i), "description": prose[i*500 : i*500+1200],
			"input_schema": map[string]any{"type": "object", "properties": map[string]any{
				"command": map[string]any{"type": "string", "description": "the command; never pass a secret or an api_key"}}}})
	}
	var msgs []any
	for i := 0; i < turns; i++ {
		msgs = append(msgs,
			map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": fmt.Sprintf("step %d: ", i) + prose[i*300:i*300+600]}}},
			map[string]any{"role": "assistant", "content": []any{
				map[string]any{"type": "text", "text": prose[i*200 : i*200+300]},
				map[string]any{"type": "tool_use", "id": fmt.Sprintf("toolu_%d", i), "name": "Bash", "input": map[string]any{"command": "cat config/app.env"}}}},
			map[string]any{"role": "user", "content": []any{map[string]any{"type": "tool_result", "tool_use_id": fmt.Sprintf("toolu_%d", i),
				"content": prose[i*400:i*400+900] + "\nDB_PASSWORD=hunter2FAKE\nAWS_KEY=AKIAIOSFODNN7EXAMPLE\n"}}})
	}
	body, _ := json.Marshal(map[string]any{"model": "claude-sonnet-4-5", "max_tokens": 32000, "stream": true,
		"system": system, "tools": tools, "messages": msgs})
	return body
}

// BenchmarkRequestConversationResent is a Claude Code request resent as
// the client resends it: the earlier turns carry the masked text Airlock
// gave back, and every string was masked once before (the previous
// request). With the digest cache each such string costs a keyword scan
// and a hash instead of masking; compare BenchmarkRequestConversationNoCache.
func BenchmarkRequestConversationResent(b *testing.B) { benchConversation(b, 0) }

// BenchmarkRequestConversationNoCache is the same without the cache.
func BenchmarkRequestConversationNoCache(b *testing.B) { benchConversation(b, -1) }

func benchConversation(b *testing.B, cache int) {
	m := newTestMasker(b, Config{CacheEntries: cache})
	body, res, err := m.Request(claudeCodeBody(12), nil) // the previous request, masked
	if err != nil || !strings.Contains(string(body), "[REDACTED:") || res.Counts == nil {
		b.Fatalf("the conversation has nothing masked (%v): the benchmark would measure nothing", err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportMetric(float64(len(body)), "body-bytes")
	b.ResetTimer()
	defer cpuPerOp(b, len(body))()
	for i := 0; i < b.N; i++ {
		if _, _, err := m.Request(body, nil); err != nil {
			b.Fatal(err)
		}
	}
}
