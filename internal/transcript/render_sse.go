package transcript

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/airlock-dev/airlock/internal/sse"
)

// sseEvent is the subset of the streaming events' JSON that rendering needs.
type sseEvent struct {
	Type         string   `json:"type"`
	Index        int      `json:"index"`
	ContentBlock apiBlock `json:"content_block"`
	Delta        struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		Thinking    string `json:"thinking"`
		PartialJSON string `json:"partial_json"`
		StopReason  string `json:"stop_reason"`
	} `json:"delta"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// renderStream rebuilds the answer's content blocks from the SSE stream.
func renderStream(w io.Writer, stream []byte) {
	open := map[int]*apiBlock{}
	var input = map[int]*strings.Builder{}
	for _, data := range sseData(stream) {
		var ev sseEvent
		if json.Unmarshal(data, &ev) != nil {
			continue
		}
		switch ev.Type {
		case "content_block_start":
			b := ev.ContentBlock
			open[ev.Index], input[ev.Index] = &b, &strings.Builder{}
		case "content_block_delta":
			applyDelta(open[ev.Index], input[ev.Index], ev)
		case "content_block_stop":
			if b := open[ev.Index]; b != nil {
				if s := input[ev.Index].String(); s != "" {
					b.Input = json.RawMessage(s)
				}
				renderBlock(w, "assistant", *b)
				delete(open, ev.Index)
			}
		case "message_delta":
			if ev.Delta.StopReason != "" {
				fmt.Fprintf(w, "   (stop: %s)\n", ev.Delta.StopReason)
			}
		case "error":
			fmt.Fprintf(w, "error (mid-stream): %s: %s\n", ev.Error.Type, ev.Error.Message)
		}
	}
}

func applyDelta(b *apiBlock, in *strings.Builder, ev sseEvent) {
	if b == nil {
		return
	}
	b.Text += ev.Delta.Text
	b.Thinking += ev.Delta.Thinking
	in.WriteString(ev.Delta.PartialJSON)
}

// sseData returns each event's data (multi-line data joined with "\n"),
// including a last event the stream never terminated.
func sseData(stream []byte) [][]byte {
	var out [][]byte
	sc := sse.NewScanner(len(stream) + 2) // already stored: no bound to enforce
	sc.Write(stream)
	sc.Write([]byte("\n\n"))
	sc.Close()
	for sc.Scan() {
		if d := sc.Event().Data; d != nil {
			out = append(out, bytes.Clone(d)) // joined data lives in the scanner's buffer
		}
	}
	return out
}
