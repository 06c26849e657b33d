package transcript

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/audit"
)

func TestReplayIsByteIdentical(t *testing.T) {
	rc := sampleRecording()
	var want bytes.Buffer
	for _, ev := range rc.Events {
		want.Write(ev.Data)
	}
	for _, speed := range []float64{0, 1000} {
		var got bytes.Buffer
		if err := Replay(context.Background(), &got, rc, speed); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("speed %v: replay differs:\n%q\nwant\n%q", speed, got.String(), want.String())
		}
	}
}

func TestReplayStopsOnCancel(t *testing.T) {
	rc := &audit.Recording{Events: []audit.Event{{Offset: 0, Data: []byte("a")}, {Offset: time.Hour, Data: []byte("b")}}}
	ctx, cancel := context.WithCancel(context.Background())
	var got bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- Replay(ctx, &got, rc, 1) }()
	cancel()
	if err := <-done; err == nil || got.String() == "ab" {
		t.Fatalf("replay ignored cancellation: %v %q", err, got.String())
	}
}

func TestRenderSession(t *testing.T) {
	first := sampleRecording()
	second := sampleRecording()
	second.RequestBody = []byte(`{"messages":[{"role":"user","content":"List the files"},
		{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls"}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"README.md\ngo.mod"}]}]}`)
	second.ContentType = "application/json"
	second.Events = []audit.Event{{Data: []byte(`{"content":[{"type":"text","text":"There are two files."}]}`)}}
	d := audit.SessionDetail{Entries: []audit.Entry{{Record: audit.Record{ID: 1}, Recording: first}, {Record: audit.Record{ID: 2}, Recording: second}}}
	var out bytes.Buffer
	if err := RenderSession(&out, d); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"user: List the files", "assistant: I will run ls.", `tool call Bash {"command": "ls"}`,
		"tool result: README.md", "assistant: There are two files.", "(stop: tool_use)"} {
		if !strings.Contains(text, want) {
			t.Errorf("rendering lacks %q:\n%s", want, text)
		}
	}
	if strings.Count(text, "user: List the files") != 1 {
		t.Errorf("resent history printed twice:\n%s", text)
	}
}

func sampleRecording() *audit.Recording {
	return &audit.Recording{
		RequestBody: []byte(`{"model":"claude-sonnet-test","stream":true,"messages":[{"role":"user","content":"List the files"}]}`),
		Status:      200, ContentType: "text/event-stream",
		Events: []audit.Event{
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

// A tool's output (here a file the agent read) and the model's text are
// decoded from JSON, where "\u001b" is an escape character: rendered for a
// person, it is shown, not obeyed by their terminal.
func TestRenderSessionShowsEscapes(t *testing.T) {
	rc := sampleRecording()
	rc.RequestBody = []byte(`{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1",` +
		`"content":"notes.txt\r\u001b[2Kall clear \u202e"}]}]}`)
	var out bytes.Buffer
	if err := RenderSession(&out, audit.SessionDetail{Entries: []audit.Entry{{Record: audit.Record{ID: 1}, Recording: rc}}}); err != nil {
		t.Fatal(err)
	}
	if text := out.String(); strings.ContainsAny(text, "\r\x1b\u202e") || !strings.Contains(text, `notes.txt\x0d\x1b[2Kall clear \u202e`) {
		t.Errorf("rendering:\n%q", text)
	}
}
