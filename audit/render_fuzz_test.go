package audit

import (
	"bytes"
	"io"
	"testing"
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
		renderResponse(io.Discard, &Recording{ContentType: ct, Events: []Event{{Data: data}}})
		renderRequest(io.Discard, data, 3)
	})
}
