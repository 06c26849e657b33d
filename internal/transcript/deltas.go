package transcript

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/airlock-dev/airlock/audit"
)

// Delta is one piece of an answer as the client received it, at its offset
// from the start of the response: what a live replay shows.
type Delta struct {
	Offset time.Duration
	Block  int    // the content block it belongs to
	Kind   string // text | thinking | tool_use | tool_input | error | stop
	Text   string
}

// Deltas decodes a recording's response into the pieces a reader sees, in
// order: a streamed answer delta by delta, a JSON body block by block.
func Deltas(rc *audit.Recording) []Delta {
	if !strings.Contains(rc.ContentType, "event-stream") {
		return bodyDeltas(rc)
	}
	var out []Delta
	for _, ev := range rc.Events {
		for _, data := range sseData(ev.Data) {
			var e sseEvent
			if json.Unmarshal(data, &e) == nil {
				out = append(out, streamDeltas(ev.Offset, e)...)
			}
		}
	}
	return out
}

func streamDeltas(at time.Duration, e sseEvent) []Delta {
	d := Delta{Offset: at, Block: e.Index}
	switch e.Type {
	case "content_block_start":
		d.Kind = e.ContentBlock.Type
		d.Text = e.ContentBlock.Text + e.ContentBlock.Thinking + e.ContentBlock.Name
	case "content_block_delta":
		d.Kind, d.Text = deltaKind(e.Delta.Type), e.Delta.Text+e.Delta.Thinking+e.Delta.PartialJSON
	case "message_delta": // not part of a content block
		d.Block, d.Kind, d.Text = -1, "stop", e.Delta.StopReason
	case "error":
		d.Block, d.Kind, d.Text = -1, "error", e.Error.Type+": "+e.Error.Message
	}
	if d.Kind == "" || (d.Text == "" && d.Kind != "text" && d.Kind != "thinking") {
		return nil
	}
	return []Delta{d}
}

func deltaKind(t string) string {
	switch t {
	case "text_delta":
		return "text"
	case "thinking_delta":
		return "thinking"
	case "input_json_delta":
		return "tool_input"
	}
	return ""
}

func bodyDeltas(rc *audit.Recording) []Delta {
	var at time.Duration
	var body []byte
	for _, ev := range rc.Events {
		at, body = ev.Offset, append(body, ev.Data...)
	}
	var msg struct {
		Content []apiBlock `json:"content"`
		Error   *struct{ Type, Message string }
	}
	if json.Unmarshal(body, &msg) != nil {
		return []Delta{{Offset: at, Kind: "text", Text: string(body)}}
	}
	var out []Delta
	if msg.Error != nil {
		out = append(out, Delta{Offset: at, Kind: "error", Text: msg.Error.Type + ": " + msg.Error.Message})
	}
	for i, b := range msg.Content {
		out = append(out, Delta{Offset: at, Block: i, Kind: b.Type, Text: b.Text + b.Thinking + b.Name + string(b.Input)})
	}
	return out
}

// Wait sleeps until offset/speed after start (speed <= 0: not at all), or
// until ctx is done: the pacing Replay uses, for other presentations.
func Wait(ctx context.Context, start time.Time, offset time.Duration, speed float64) error {
	return sleepUntil(ctx, start, offset, speed)
}
