package fakeapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/airlock-dev/airlock/apierror"
)

// pingEvery is how many deltas pass between two ping events.
const pingEvery = 40

// eventWriter writes server-sent events, flushing each one, with an optional
// pause between events; after the first failed write it writes nothing more.
type eventWriter struct {
	ctx      context.Context
	w        http.ResponseWriter
	rc       *http.ResponseController
	interval time.Duration
	buf      []byte
	sent     int
	deltas   int
	failed   bool
}

func (e *eventWriter) send(name string, v any) {
	if e.failed {
		return
	}
	if e.sent > 0 && !sleep(e.ctx, e.interval) {
		e.failed = true
		return
	}
	data, _ := json.Marshal(v)
	e.buf = append(append(append(append(e.buf[:0], "event: "...), name...), "\ndata: "...), data...)
	e.buf = append(e.buf, "\n\n"...)
	if _, err := e.w.Write(e.buf); err != nil {
		e.failed = true
		return
	}
	e.failed = e.rc.Flush() != nil
	e.sent++
}

type (
	indexed struct {
		Type  string `json:"type"`
		Index int    `json:"index"`
	}
	blockStart struct {
		Type         string `json:"type"`
		Index        int    `json:"index"`
		ContentBlock any    `json:"content_block"`
	}
	blockDelta struct {
		Type  string `json:"type"`
		Index int    `json:"index"`
		Delta any    `json:"delta"`
	}
	messageStart struct {
		Type    string  `json:"type"`
		Message message `json:"message"`
	}
	messageDelta struct {
		Type  string `json:"type"`
		Delta struct {
			StopReason   string  `json:"stop_reason"`
			StopSequence *string `json:"stop_sequence"`
		} `json:"delta"`
		Usage usage `json:"usage"`
	}
)

var ping = struct {
	Type string `json:"type"`
}{"ping"}

// streamAnswer sends a as the API streams a message: message_start, a ping,
// each block's start, deltas and stop, the final message_delta with the
// cumulative usage and message_stop; or an error event part way.
func streamAnswer(ctx context.Context, w http.ResponseWriter, m message, a answer, interval time.Duration) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	e := &eventWriter{ctx: ctx, w: w, rc: http.NewResponseController(w), interval: interval}
	m.Content, m.Usage.OutputTokens = []any{}, 1
	e.send("message_start", messageStart{"message_start", m})
	e.send("ping", ping)
	for i := range a.blocks {
		if !e.streamBlock(i, &a.blocks[i], a.failAfter) {
			return
		}
	}
	var d messageDelta
	d.Type, d.Delta.StopReason = "message_delta", a.stopReason
	d.Usage = m.Usage
	d.Usage.OutputTokens, d.Usage.ServiceTier = a.outputTokens(), ""
	e.send("message_delta", d)
	e.send("message_stop", indexedType("message_stop"))
}

func indexedType(t string) any {
	return struct {
		Type string `json:"type"`
	}{t}
}

// streamBlock sends one block; it returns false when the stream ended early
// (the client went away, or the scenario's error event was sent).
func (e *eventWriter) streamBlock(i int, b *block, failAfter int) bool {
	e.send("content_block_start", blockStart{"content_block_start", i, b.wire(false)})
	for _, c := range b.Citations {
		e.delta(i, citationsDelta{"citations_delta", c})
	}
	for _, chunk := range b.chunks {
		e.delta(i, chunkDelta(b.Type, chunk))
		if failAfter >= 0 && e.deltas >= failAfter {
			break
		}
	}
	if failAfter >= 0 { // the error cuts the block short, as an overloaded API does
		e.send("error", apierror.Body{Type: "error", Error: apierror.Detail{Type: apierror.Overloaded, Message: "Overloaded"},
			RequestID: e.w.Header().Get("Request-Id")})
		return false
	}
	if b.Type == "thinking" {
		e.delta(i, signatureDelta{"signature_delta", b.Signature})
	}
	e.send("content_block_stop", indexed{"content_block_stop", i})
	return !e.failed
}

func (e *eventWriter) delta(i int, d any) {
	e.send("content_block_delta", blockDelta{"content_block_delta", i, d})
	if e.deltas++; e.deltas%pingEvery == 0 {
		e.send("ping", ping)
	}
}

type (
	textDelta struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	inputDelta struct {
		Type        string `json:"type"`
		PartialJSON string `json:"partial_json"`
	}
	citationsDelta struct {
		Type     string   `json:"type"`
		Citation citation `json:"citation"`
	}
	signatureDelta struct {
		Type      string `json:"type"`
		Signature string `json:"signature"`
	}
	thinkingDelta struct {
		Type     string `json:"type"`
		Thinking string `json:"thinking"`
	}
)

func chunkDelta(blockType, chunk string) any {
	switch blockType {
	case "tool_use":
		return inputDelta{"input_json_delta", chunk}
	case "thinking":
		return thinkingDelta{"thinking_delta", chunk}
	}
	return textDelta{"text_delta", chunk}
}
