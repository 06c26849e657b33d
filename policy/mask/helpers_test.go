package mask

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// fakeSecrets are obviously fake values of every detector's shape.
var fakeSecrets = []string{
	"sk-ant-api03-FAKE-demo-key-not-real",
	"sk-ant-oat01-FAKE-oauth-token-not-real",
	"sk-proj-FAKEfakeFAKEfakeFAKEfake1234567890",
	"AKIAIOSFODNN7EXAMPLE",
	"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000",
	"glpat-FAKEfakeFAKEfake1234",
	"xoxb-0000000000-FAKEfakeFAKEfake",
	"sk_live_FAKEfakeFAKEfake0000",
	"AIzaSyFAKE9xQ2mT7vB4nL8kR1wZ6pJ3hC5dE0g",
	"-----BEGIN RSA PRIVATE KEY-----\nMIIEFAKEfakeFAKEfakeFAKEfakeFAKEfake\n-----END RSA PRIVATE KEY-----",
	"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlIn0.FAKEsignatureFAKE",
	"DB_PASSWORD=hunter2",
	"\"password\": \"correcthorsebattery\"",
	"bob.smith+fake@example.com",
	"4111 1111 1111 1111",
	"(415) 555-2671",
	"123-45-6789",
	"my-managed-FAKE-value",
	"[REDACTED:jwt:abcdef]",
}

// fillers stress holds and UTF-8: keyword fragments, multi-byte runes.
var fillers = []string{"the", "sk-", "sk-an", "AKI", "aws", "password", "token", "eyJ", "-----BEGIN", "gh", "é", "日本語", "🙂", " ", " ", "\n", "=", ":", "\"", "1234", "x", "@", "+1", "[REDACTED:"}

func randomText(r *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		if r.IntN(8) == 0 {
			b.WriteString(fakeSecrets[r.IntN(len(fakeSecrets))])
		} else {
			b.WriteString(fillers[r.IntN(len(fillers))])
		}
	}
	return b.String()
}

// randomRunePieces splits s at random rune boundaries (deltas are strings).
func randomRunePieces(r *rand.Rand, s string) []string {
	var out []string
	for len(s) > 0 {
		n := 1 + r.IntN(12)
		if n > len(s) {
			n = len(s)
		}
		for n < len(s) && !isRuneStart(s[n]) {
			n++
		}
		out = append(out, s[:n])
		s = s[n:]
	}
	return out
}

func isRuneStart(c byte) bool { return c&0xC0 != 0x80 }

func sseEvent(nl, name string, data any) string {
	js, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	return "event: " + name + nl + "data: " + string(js) + nl + nl
}

// textDelta is a delta event with its fields in the order the API writes
// them (the order parseDelta reads).
func textDelta(nl string, index int, field, typ, text string) string {
	js, err := json.Marshal(text)
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf(`event: content_block_delta%sdata: {"type":"content_block_delta","index":%d,"delta":{"type":"%s","%s":%s}}%s%s`,
		nl, index, typ, field, js, nl, nl)
}

// sortedTextDelta is the same event with its keys sorted: valid, but not
// the API's order, so masking reads it through gjson.
func sortedTextDelta(nl string, index int, field, typ, text string) string {
	return sseEvent(nl, "content_block_delta", map[string]any{"type": "content_block_delta", "index": index,
		"delta": map[string]any{"type": typ, field: text}})
}

// buildStream renders a Messages stream with a text block (0) and a
// tool_use block (1) whose texts arrive in the given pieces.
func buildStream(r *rand.Rand, nl string, textPieces, jsonPieces []string) string {
	var b strings.Builder
	b.WriteString(sseEvent(nl, "message_start", map[string]any{"type": "message_start", "message": map[string]any{"id": "msg_1", "content": []any{}}}))
	b.WriteString(sseEvent(nl, "content_block_start", map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]any{"type": "text", "text": ""}}))
	for _, p := range textPieces {
		if r.IntN(10) == 0 {
			b.WriteString(sseEvent(nl, "ping", map[string]any{"type": "ping"}))
		}
		if r.IntN(15) == 0 {
			b.WriteString(": keep-alive comment" + nl + nl)
		}
		delta := textDelta
		if r.IntN(3) == 0 {
			delta = sortedTextDelta
		}
		b.WriteString(delta(nl, 0, "text", "text_delta", p))
	}
	b.WriteString(sseEvent(nl, "content_block_stop", map[string]any{"type": "content_block_stop", "index": 0}))
	b.WriteString(sseEvent(nl, "content_block_start", map[string]any{"type": "content_block_start", "index": 1, "content_block": map[string]any{"type": "tool_use", "id": "toolu_1", "name": "bash", "input": map[string]any{}}}))
	for _, p := range jsonPieces {
		delta := textDelta
		if r.IntN(3) == 0 {
			delta = sortedTextDelta
		}
		b.WriteString(delta(nl, 1, "partial_json", "input_json_delta", p))
	}
	b.WriteString(sseEvent(nl, "content_block_stop", map[string]any{"type": "content_block_stop", "index": 1}))
	b.WriteString(sseEvent(nl, "message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": "end_turn"}}))
	b.WriteString(sseEvent(nl, "message_stop", map[string]any{"type": "message_stop"}))
	return b.String()
}

// feedChunks writes data to the stream in random chunks, often 1 byte, so
// splits fall inside lines, CRLFs and UTF-8 sequences.
func feedChunks(tb testing.TB, r *rand.Rand, s *Stream, data []byte) {
	tb.Helper()
	for len(data) > 0 {
		n := 1
		if r.IntN(3) > 0 {
			n = 1 + r.IntN(64)
		}
		n = min(n, len(data))
		if _, err := s.Write(data[:n]); err != nil {
			tb.Fatalf("write: %v", err)
		}
		data = data[n:]
	}
	if err := s.Close(); err != nil {
		tb.Fatalf("close: %v", err)
	}
}

type parsedEvent struct {
	name string
	data map[string]any
}

// parseSSE checks the framing (every event ends with a blank line, has an
// event line and exactly one data line of valid JSON) and returns events.
func parseSSE(tb testing.TB, out []byte) []parsedEvent {
	tb.Helper()
	norm := strings.ReplaceAll(string(out), "\r\n", "\n")
	if !strings.HasSuffix(norm, "\n\n") {
		tb.Fatalf("stream does not end with a blank line: %q", tail(norm))
	}
	var events []parsedEvent
	for _, raw := range strings.Split(strings.TrimSuffix(norm, "\n\n"), "\n\n") {
		if strings.HasPrefix(raw, ":") {
			continue
		}
		lines := strings.Split(raw, "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "event: ") || !strings.HasPrefix(lines[1], "data: ") {
			tb.Fatalf("bad event framing: %q", raw)
		}
		ev := parsedEvent{name: strings.TrimPrefix(lines[0], "event: ")}
		if err := json.Unmarshal([]byte(strings.TrimPrefix(lines[1], "data: ")), &ev.data); err != nil {
			tb.Fatalf("bad event data %q: %v", lines[1], err)
		}
		events = append(events, ev)
	}
	return events
}

func tail(s string) string { return s[max(0, len(s)-80):] }

// blockText concatenates the delta field of one block's events.
func blockText(events []parsedEvent, index int, field string) string {
	var b strings.Builder
	for _, ev := range events {
		if ev.data["type"] != "content_block_delta" || ev.data["index"] != float64(index) {
			continue
		}
		if v, ok := ev.data["delta"].(map[string]any)[field].(string); ok {
			b.WriteString(v)
		}
	}
	return b.String()
}

func newTestMasker(tb testing.TB, cfg Config) *Masker {
	tb.Helper()
	if cfg.Key == nil {
		cfg.Key = testKey
	}
	m, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	m.SetManaged([]string{"my-managed-FAKE-value"})
	return m
}

func mustContainNone(tb testing.TB, out []byte, secrets ...string) {
	tb.Helper()
	for _, s := range secrets {
		if bytes.Contains(out, []byte(s)) {
			tb.Fatalf("output contains %q", s)
		}
	}
}

// mustStayClear: Text leaves each of texts as it is.
func mustStayClear(tb testing.TB, m *Masker, texts ...string) {
	tb.Helper()
	for _, s := range texts {
		if out, res := m.Text(s, nil); out != s {
			tb.Errorf("%q masked: %q %v", s, out, res.Counts)
		}
	}
}

var _ = fmt.Sprintf
