package mask

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"
)

// proseText is secret-free text with the usual near misses (keywords in
// prose, numbers, non-ASCII) that the prefilter must wave through.
func proseText(n int) string {
	words := []string{"the", "model", "returns", "a", "token", "count", "and", "the", "password", "field", "is", "required;",
		"deploy", "to", "aws", "with", "sk-learn", "日本語", "café", "\n", "1234", "function", "(x)", "{", "}", "return", "value", "=", "42;"}
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		b.WriteByte(' ')
	}
	return b.String()
}

func secretDenseText(n int) string {
	r := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(fakeSecrets[r.IntN(len(fakeSecrets)-1)])
		b.WriteString(" and some words in between ")
	}
	return b.String()
}

// realisticRequest builds a ~200 KB multi-turn Messages request: a long
// system prompt, tool uses and tool results with file contents, a few
// secrets, and thinking blocks.
func realisticRequest(size int) []byte {
	var msgs []any
	prose := proseText(4000)
	for i := 0; len(msgs) < 1000; i++ {
		msgs = append(msgs,
			map[string]any{"role": "user", "content": prose[:800] + fmt.Sprintf(" turn %d", i)},
			map[string]any{"role": "assistant", "content": []any{
				map[string]any{"type": "thinking", "thinking": prose[:500], "signature": "c2lnbmF0dXJl"},
				map[string]any{"type": "text", "text": prose[500:900]},
				map[string]any{"type": "tool_use", "id": fmt.Sprintf("toolu_%d", i), "name": "bash", "input": map[string]any{"command": "cat .env", "timeout": 10}}}},
			map[string]any{"role": "user", "content": []any{map[string]any{"type": "tool_result", "tool_use_id": fmt.Sprintf("toolu_%d", i),
				"content": prose[900:2500] + "\nAWS_KEY=AKIAIOSFODNN7EXAMPLE\n"}}})
		body, _ := json.Marshal(map[string]any{"model": "claude-x", "max_tokens": 4096, "system": prose, "messages": msgs})
		if len(body) >= size {
			return body
		}
	}
	panic("unreachable")
}

func benchText(b *testing.B, text string, cfg Config) {
	cfg.CacheEntries = -1 // measure scanning, not the digest cache
	m := newTestMasker(b, cfg)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	defer cpuPerOp(b, len(text))()
	for i := 0; i < b.N; i++ {
		m.Text(text, nil)
	}
}

// cpuPerOp reports the process's CPU time per operation (user + system,
// GC included) and the throughput it implies: on a machine shared with
// other work, wall time per op grows with the load while CPU time barely
// does, so these are the figures to compare. Call it after ResetTimer
// and run the function it returns at the end.
func cpuPerOp(b *testing.B, size int) func() {
	start := processCPU()
	return func() {
		per := float64(processCPU()-start) / float64(b.N)
		b.ReportMetric(per, "cpu-ns/op")
		if size > 0 && per > 0 {
			b.ReportMetric(float64(size)/per*1e3, "cpu-MB/s")
		}
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// go test ./policy/mask -run '^$' -bench . -benchmem
func BenchmarkTextClean(b *testing.B)         { benchText(b, proseText(256<<10), Config{}) }
func BenchmarkTextCleanPII(b *testing.B)      { benchText(b, proseText(256<<10), Config{PII: true}) }
func BenchmarkTextSecretDense(b *testing.B)   { benchText(b, secretDenseText(256<<10), Config{}) }
func BenchmarkRequest200KB(b *testing.B)      { benchRequest(b, -1) }
func BenchmarkRequest200KBCache(b *testing.B) { benchRequest(b, 0) }

func benchRequest(b *testing.B, cache int) { benchBody(b, realisticRequest(200<<10), cache) }

func benchBody(b *testing.B, body []byte, cache int) {
	m := newTestMasker(b, Config{CacheEntries: cache})
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	defer cpuPerOp(b, len(body))()
	for i := 0; i < b.N; i++ {
		if _, _, err := m.Request(body, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamEvent measures the added cost per text_delta event of a
// typical stream (deltas of a few words), and reports bytes held.
func BenchmarkStreamEvent(b *testing.B) {
	m := newTestMasker(b, Config{})
	r := rand.New(rand.NewPCG(5, 6))
	text := proseText(64<<10) + secretDenseText(4<<10)
	var events [][]byte
	for _, p := range randomRunePieces(r, text) {
		events = append(events, []byte(textDelta("\n", 0, "text", "text_delta", p)))
	}
	b.ResetTimer()
	defer cpuPerOp(b, 0)()
	maxHeld := 0
	for i := 0; i < b.N; {
		s := m.NewStream(io.Discard, nil, StreamOptions{})
		for _, ev := range events {
			s.Write(ev)
			if bl := s.blocks[0]; bl != nil {
				maxHeld = max(maxHeld, bl.sc.held()+len(bl.sc.out)+len(bl.sc.buf))
			}
			if i++; i == b.N {
				break
			}
		}
		s.Close()
	}
	b.ReportMetric(float64(maxHeld), "max-held-bytes")
}

// BenchmarkStreamPassthrough is the baseline: parsing events without
// holding anything back (no detector keyword in the text).
func BenchmarkStreamPassthrough(b *testing.B) {
	m := newTestMasker(b, Config{})
	ev := []byte(textDelta("\n", 0, "text", "text_delta", "Hello world, here is more "))
	var sink bytes.Buffer
	s := m.NewStream(&sink, nil, StreamOptions{})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Write(ev)
		sink.Reset()
	}
}

// cleanRequest is realisticRequest without any secret or keyword: the
// common case the raw-body fast path serves.
func cleanRequest(size int) []byte {
	clean := strings.NewReplacer("AWS_KEY=AKIAIOSFODNN7EXAMPLE", "REGION=us-east-1", "token", "word",
		"password", "passphrase", "aws", "cloud", "sk-learn", "scikit")
	return []byte(clean.Replace(string(realisticRequest(size))))
}

func BenchmarkRequest200KBClean(b *testing.B) { benchBody(b, cleanRequest(200<<10), -1) }

// BenchmarkRequestSmallClean is a one-turn request as a client sends it.
func BenchmarkRequestSmallClean(b *testing.B) {
	benchBody(b, []byte(`{"model":"claude-x","max_tokens":1024,"stream":false,"messages":[{"role":"user","content":"Write a haiku about the sea.\nKeep it short."}]}`), 0)
}

// BenchmarkRequest200KBResent is the next turn of a conversation: the
// client resends the masked body it was given (digest cache on).
func BenchmarkRequest200KBResent(b *testing.B) {
	m := newTestMasker(b, Config{})
	masked, _, err := m.Request(realisticRequest(200<<10), nil)
	if err != nil {
		b.Fatal(err)
	}
	benchBody(b, masked, 0)
}

// BenchmarkTextShortClean is one command-line argument as the gateway masks
// it for the audit record, per request.
func BenchmarkTextShortClean(b *testing.B) {
	m := newTestMasker(b, Config{CacheEntries: -1})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.Text("/usr/local/lib/node_modules/@anthropic-ai/claude-code/cli.js", nil)
	}
}
