package gateway

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/internal/sse"
)

// Bounds of what an action keeps for the record.
const (
	maxActionInput = 1 << 20 // input JSON kept for all the tool calls of one response
	maxActions     = 256     // tool calls per response
	excerptLen     = 240     // bytes of a tool result kept
)

// isToolBlock reports whether a content block type is a call the client or
// the API is told to make.
func isToolBlock(typ string) bool {
	return typ == "tool_use" || typ == "server_tool_use" || typ == "mcp_tool_use"
}

// actionTracker assembles the tool calls of a streamed answer from its
// events as the client receives them (masked): content_block_start opens a
// tool block, its input_json_delta fragments concatenate to the input, and
// content_block_stop completes it, whatever the chunking upstream.
type actionTracker struct {
	open     map[int64]*openAction
	rec      *audit.Record
	input    int                // input bytes kept so far, across the response's actions
	verdicts map[string]verdict // the action gate's decisions, by block id (nil: no action rules)
}

type openAction struct {
	a     audit.Action
	input []byte
	start []byte // the input the start event carried ({} for client tools)
}

func newActionTracker(rec *audit.Record) *actionTracker {
	return &actionTracker{open: map[int64]*openAction{}, rec: rec}
}

// event observes one event; raw is what the client receives (e's bytes, or
// a scrubbed copy of them).
func (t *actionTracker) event(e sse.Event, raw []byte) {
	if len(raw) == 0 || len(t.open) == 0 && !bytes.Contains(raw, []byte(`_use"`)) {
		return // the common case: text deltas, pings, usage
	}
	data := e.Data
	if data == nil || &raw[0] != &e.Raw[0] { // a stage rewrote the event, or the scrub did
		data = sse.Parse(raw).Data
	}
	idx := gjson.GetBytes(data, "index").Int()
	switch gjson.GetBytes(data, "type").String() {
	case "content_block_start":
		t.start(idx, gjson.GetBytes(data, "content_block"))
	case "content_block_delta":
		if a := t.open[idx]; a != nil && gjson.GetBytes(data, "delta.type").String() == "input_json_delta" {
			t.add(a, gjson.GetBytes(data, "delta.partial_json").String())
		}
	case "content_block_stop":
		if a := t.open[idx]; a != nil {
			delete(t.open, idx)
			t.complete(a)
		}
	}
}

func (t *actionTracker) start(idx int64, block gjson.Result) {
	typ := block.Get("type").String()
	if !isToolBlock(typ) {
		return
	}
	t.open[idx] = &openAction{a: audit.Action{ID: block.Get("id").String(), Type: typ, Tool: toolName(block)},
		start: []byte(block.Get("input").Raw)}
}

// add keeps a fragment of a's input while the response's total allows: a
// hostile upstream or prompt cannot make one record hold more than
// maxActionInput of inputs, however many tool calls it streams.
func (t *actionTracker) add(a *openAction, fragment string) {
	if t.input+len(fragment) > maxActionInput {
		a.a.Truncated = true
		return
	}
	t.input += len(fragment)
	a.input = append(a.input, fragment...)
}

func (t *actionTracker) complete(a *openAction) {
	in := a.input
	if len(in) == 0 {
		in = a.start
	}
	a.a.Input = validJSON(in)
	addAction(t.rec, withVerdict(a.a, t.verdicts))
}

// withVerdict applies the gate's decision on a, if it made one.
func withVerdict(a audit.Action, verdicts map[string]verdict) audit.Action {
	if v, ok := verdicts[a.ID]; ok && a.Type == "tool_use" {
		return v.apply(a)
	}
	return a
}

// end records tool blocks the stream never closed (a cut or broken stream):
// the client may still act on what it received.
func (t *actionTracker) end() {
	for _, a := range t.open {
		a.a.Truncated = true
		t.complete(a)
	}
	clear(t.open)
}

func addAction(rec *audit.Record, a audit.Action) {
	if len(rec.Actions) >= maxActions {
		return
	}
	if a.Decision == "" {
		a.Decision = "allow"
	}
	rec.Actions = append(rec.Actions, a)
}

// toolName is the tool's name; an MCP call also names its server.
func toolName(block gjson.Result) string {
	name := block.Get("name").String()
	if srv := block.Get("server_name").String(); srv != "" {
		return srv + "." + name
	}
	return name
}

// validJSON keeps b if it is JSON (the record must stay encodable), else
// keeps it as a JSON string: a truncated or malformed input is still evidence.
func validJSON(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	if json.Valid(b) {
		return json.RawMessage(bytes.Clone(b))
	}
	s, _ := json.Marshal(strings.ToValidUTF8(string(b), "\uFFFD"))
	return s
}

// actionsOf records the tool calls of a whole (non-streamed) Messages answer.
func actionsOf(rec *audit.Record, body []byte, verdicts map[string]verdict) {
	budget := maxActionInput // for all the answer's tool calls, as in a stream
	gjson.GetBytes(body, "content").ForEach(func(_, block gjson.Result) bool {
		if isToolBlock(block.Get("type").String()) {
			in := []byte(block.Get("input").Raw)
			a := audit.Action{ID: block.Get("id").String(), Type: block.Get("type").String(), Tool: toolName(block)}
			if len(in) > budget {
				in, a.Truncated = in[:budget], true
			}
			budget -= len(in)
			a.Input = validJSON(in)
			addAction(rec, withVerdict(a, verdicts))
		}
		return true
	})
}

// toolResultsOf reads the tool results a request reports: those of its last
// turn, the one the client just added (earlier turns are resent history).
func toolResultsOf(body []byte) []audit.ToolResult {
	if !bytes.Contains(body, []byte(`"tool_result"`)) {
		return nil
	}
	var last gjson.Result // the last turn, without a slice of every turn
	gjson.GetBytes(body, "messages").ForEach(func(_, m gjson.Result) bool { last = m; return true })
	if last.Get("role").String() != "user" {
		return nil
	}
	var out []audit.ToolResult
	last.Get("content").ForEach(func(_, block gjson.Result) bool {
		if block.Get("type").String() == "tool_result" && len(out) < maxActions {
			c := block.Get("content")
			out = append(out, audit.ToolResult{ToolUseID: block.Get("tool_use_id").String(),
				IsError: block.Get("is_error").Bool(), Size: len(c.Raw), Excerpt: excerpt(resultText(c))})
		}
		return true
	})
	return out
}

// resultText is a tool result's text: a string, or its text blocks.
func resultText(c gjson.Result) string {
	if c.Type == gjson.String {
		return c.String()
	}
	var b strings.Builder
	c.ForEach(func(_, block gjson.Result) bool {
		if block.Get("type").String() == "text" {
			b.WriteString(block.Get("text").String())
		}
		return b.Len() < excerptLen
	})
	return b.String()
}

func excerpt(s string) string { return clip(s, excerptLen) }
