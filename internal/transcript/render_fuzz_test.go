package transcript

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/audit"
)

// FuzzRenderResponse: rendering recorded bytes (from any client or a broken
// upstream) must never panic.
func FuzzRenderResponse(f *testing.F) {
	var all bytes.Buffer
	for _, ev := range sampleRecording().Events {
		all.Write(ev.Data)
	}
	f.Add(all.Bytes(), true)
	f.Add([]byte(`{"content":[{"type":"text","text":"hi"}]}`), false)
	f.Add([]byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":9}\n\n"), true)
	f.Add([]byte("data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}\r\n\r\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, stream bool) {
		ct := "application/json"
		if stream {
			ct = "text/event-stream"
		}
		renderResponse(io.Discard, &audit.Recording{ContentType: ct, Events: []audit.Event{{Data: data}}})
		renderRequest(io.Discard, data, 3)
	})
}

// A recorded stream renders the same whatever its line endings, with data
// split over several lines joined as the SSE format says.
func TestRenderStreamLineEndings(t *testing.T) {
	lf := "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
		"data: {\"type\":\"content_block_delta\",\"index\":0,\n" +
		"data: \"delta\":{\"type\":\"text_delta\",\"text\":\"hello there\"}}\n\n" +
		"data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
	var want bytes.Buffer
	renderStream(&want, []byte(lf))
	if !strings.Contains(want.String(), "hello there") {
		t.Fatalf("multi-line data not joined: %q", want.String())
	}
	for _, nl := range []string{"\r\n", "\r"} {
		var got bytes.Buffer
		renderStream(&got, []byte(strings.ReplaceAll(lf, "\n", nl)))
		if got.String() != want.String() {
			t.Errorf("%q line endings: got %q, want %q", nl, got.String(), want.String())
		}
	}
}
