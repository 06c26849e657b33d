package audit

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/caller"
)

var t0 = time.Date(2026, 11, 29, 2, 15, 0, 0, time.UTC)

func openTest(tb testing.TB, cfg StoreConfig) *Store {
	tb.Helper()
	if cfg.Path == "" {
		cfg.Path = filepath.Join(tb.TempDir(), "audit.db")
	}
	s, err := Open(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func sampleRecord(i int) *Record {
	return &Record{
		Time:      t0.Add(time.Duration(i) * time.Second),
		RequestID: fmt.Sprintf("req_%03d", i),
		SessionID: "sess-1",
		Caller:    caller.Process{PID: 100 + i, UID: 1000, User: "dev", Exe: "/usr/bin/node", Cmdline: []string{"node", "agent.js"}},
		Dst:       "127.0.100.1:443", SNI: "api.anthropic.com", Method: "POST", Path: "/v1/messages",
		Model: "claude-sonnet-test", Stream: true, Decision: "allow", Rule: "default",
		Masked: map[string]int{"aws_key": 1}, EmbeddedClass: "api_key", EmbeddedFP: "fp:1234",
		Status: 200, TTFB: 30 * time.Millisecond, Duration: 900 * time.Millisecond,
		BytesIn: 120, BytesOut: 640, InputTokens: 12, OutputTokens: 34,
	}
}

func writeN(tb testing.TB, s *Store, n int, withRecording bool) []Record {
	tb.Helper()
	var out []Record
	for i := 1; i <= n; i++ {
		r := sampleRecord(i)
		var rc *Recording
		if withRecording {
			rc = sampleRecording()
		}
		if err := s.Write(context.Background(), r, rc); err != nil {
			tb.Fatal(err)
		}
		out = append(out, *r)
	}
	return out
}

func sampleRecording() *Recording {
	return &Recording{
		RequestBody: []byte(`{"model":"claude-sonnet-test","stream":true,"messages":[{"role":"user","content":"List the files"}]}`),
		Status:      200, ContentType: "text/event-stream",
		Events: []Event{
			{Offset: 0, Data: []byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"content\":[]}}\n\n")},
			{Offset: 10 * time.Millisecond, Data: []byte("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n")},
			{Offset: 20 * time.Millisecond, Data: []byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"I will run \"}}\n\n")},
			{Offset: 30 * time.Millisecond, Data: []byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"ls.\"}}\n\n")},
			{Offset: 40 * time.Millisecond, Data: []byte("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n")},
			{Offset: 50 * time.Millisecond, Data: []byte("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"Bash\",\"input\":{}}}\n\n")},
			{Offset: 60 * time.Millisecond, Data: []byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"command\\\": \\\"ls\\\"}\"}}\n\n")},
			{Offset: 70 * time.Millisecond, Data: []byte("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n")},
			{Offset: 80 * time.Millisecond, Data: []byte("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":34}}\n\n")},
			{Offset: 90 * time.Millisecond, Data: []byte("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")},
		},
	}
}

// rawDB opens a second connection to the store's file, as a tamperer would.
func rawDB(tb testing.TB, s *Store) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", dsn(s.cfg.Path, s.cfg.Sync))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func mustExec(tb testing.TB, db *sql.DB, q string, args ...any) {
	tb.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
}

func verify(tb testing.TB, s *Store) VerifyReport {
	tb.Helper()
	rep, err := s.Verify(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return rep
}
