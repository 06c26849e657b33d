package bench

import (
	"encoding/json"
	"testing"
)

// TestClaudeCodeConversation checks the scenario's shape: valid Messages
// bodies of about 50 KB on average, each turn resending the last one's
// history plus one exchange, and distinct sessions.
func TestClaudeCodeConversation(t *testing.T) {
	turns := ClaudeCodeConversation(1, ClaudeCodeTurns)
	total := 0
	var prev int
	for i, b := range turns {
		var req struct {
			Stream   bool              `json:"stream"`
			Tools    []json.RawMessage `json:"tools"`
			Messages []json.RawMessage `json:"messages"`
		}
		if err := json.Unmarshal(b, &req); err != nil {
			t.Fatalf("turn %d: %v", i, err)
		}
		if !req.Stream || len(req.Tools) != 20 || len(req.Messages) != 1+2*i {
			t.Fatalf("turn %d: stream %v, %d tools, %d messages", i, req.Stream, len(req.Tools), len(req.Messages))
		}
		if len(b) <= prev {
			t.Fatalf("turn %d: %d bytes, not more than the previous turn's %d", i, len(b), prev)
		}
		prev = len(b)
		total += len(b)
	}
	if avg := total / len(turns); avg < 40<<10 || avg > 60<<10 {
		t.Fatalf("average body %d bytes, want about 50 KB", avg)
	}
	if string(ClaudeCodeConversation(2, 1)[0]) == string(turns[0]) {
		t.Fatal("two sessions send the same first body")
	}
}
