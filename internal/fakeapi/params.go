package fakeapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Scenarios, chosen by the x-fake-scenario header or a model named "fake-<scenario>".
const (
	ScenarioText         = "text"            // default: a short answer quoting the last user text
	ScenarioEcho         = "echo"            // every text of the request streamed back verbatim
	ScenarioToolUse      = "tool_use"        // text, then a tool_use block (input_json_delta); stop_reason tool_use
	ScenarioThinking     = "thinking"        // a thinking block (thinking_delta, signature_delta), then text
	ScenarioCitations    = "citations"       // a text block with citations_delta events
	ScenarioMidstreamErr = "midstream_error" // HTTP 200, a few deltas, then an error event (529 when not streamed)
	ScenarioLong         = "long"            // x-fake-events text deltas of x-fake-delta-size bytes
	ScenarioAgent        = "agent"           // long's text deltas, then a tool_use block; stop_reason tool_use
	ScenarioBash         = "bash"            // a coding agent's turn: a Bash call running the prompt's "RUN: " line; after its tool_result, a text quoting it
	ScenarioSlow         = "slow"            // the text answer with x-fake-interval-ms (default 25) between events
	ScenarioError        = "error"           // an HTTP error of status x-fake-status (default 529)
)

// Request headers that tune a scenario. None is forwarded by real clients.
const (
	HeaderScenario   = "X-Fake-Scenario"
	HeaderEvents     = "X-Fake-Events"      // long: number of text deltas (default 200)
	HeaderDeltaSize  = "X-Fake-Delta-Size"  // long: bytes per text delta (default 20)
	HeaderChunk      = "X-Fake-Chunk"       // any: fixed bytes per text delta instead of the 3–50 byte cycle
	HeaderIntervalMS = "X-Fake-Interval-Ms" // any stream: pause between events
	HeaderThinkMS    = "X-Fake-Think-Ms"    // any: delay before the response headers
	HeaderStatus     = "X-Fake-Status"      // error: the HTTP status to answer
)

var scenarios = map[string]bool{ScenarioText: true, ScenarioEcho: true, ScenarioToolUse: true,
	ScenarioThinking: true, ScenarioCitations: true, ScenarioMidstreamErr: true, ScenarioLong: true,
	ScenarioSlow: true, ScenarioError: true, ScenarioAgent: true, ScenarioBash: true}

// messagesRequest is the part of a Messages body the fake looks at.
type messagesRequest struct {
	Model     string          `json:"model"`
	MaxTokens *int            `json:"max_tokens"`
	Stream    bool            `json:"stream"`
	System    json.RawMessage `json:"system"`
	Messages  []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools []struct {
		Name string `json:"name"`
	} `json:"tools"`
}

// params are the scenario and its knobs for one request.
type params struct {
	scenario  string
	events    int
	deltaSize int
	chunk     int
	interval  time.Duration
	think     time.Duration
	status    int
}

// parseMessages decodes and validates a Messages body the way the API does:
// the returned string is an invalid_request_error message when not empty.
func parseMessages(body []byte) (*messagesRequest, string) {
	var req messagesRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, "There was an issue with your request body: invalid JSON"
	}
	switch {
	case req.Model == "":
		return nil, "model: Field required"
	case req.MaxTokens == nil:
		return nil, "max_tokens: Field required"
	case *req.MaxTokens < 1:
		return nil, "max_tokens: must be greater than or equal to 1"
	case len(req.Messages) == 0:
		return nil, "messages: at least one message is required"
	}
	return &req, ""
}

// paramsFor reads the scenario and its knobs; the string is an error message.
func paramsFor(h http.Header, model string, think time.Duration) (params, string) {
	p := params{scenario: ScenarioText, events: 200, deltaSize: 20, think: think, status: 529}
	if name, ok := strings.CutPrefix(model, "fake-"); ok {
		p.scenario = name
	}
	if v := h.Get(HeaderScenario); v != "" {
		p.scenario = v
	}
	if !scenarios[p.scenario] {
		return p, fmt.Sprintf("unknown fake scenario %q", p.scenario)
	}
	if p.scenario == ScenarioSlow {
		p.interval = 25 * time.Millisecond
	}
	ints := []struct {
		header string
		dst    *int
		min    int
	}{{HeaderEvents, &p.events, 1}, {HeaderDeltaSize, &p.deltaSize, 1}, {HeaderChunk, &p.chunk, 1}, {HeaderStatus, &p.status, 400}}
	for _, f := range ints {
		if msg := headerInt(h, f.header, f.dst, f.min); msg != "" {
			return p, msg
		}
	}
	return p, durations(h, &p)
}

func durations(h http.Header, p *params) string {
	for header, dst := range map[string]*time.Duration{HeaderIntervalMS: &p.interval, HeaderThinkMS: &p.think} {
		ms := -1
		if msg := headerInt(h, header, &ms, 0); msg != "" {
			return msg
		}
		if ms >= 0 {
			*dst = time.Duration(ms) * time.Millisecond
		}
	}
	return ""
}

func headerInt(h http.Header, name string, dst *int, min int) string {
	v := h.Get(name)
	if v == "" {
		return ""
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return fmt.Sprintf("%s: want an integer >= %d, got %q", strings.ToLower(name), min, v)
	}
	*dst = n
	return ""
}

// lastUserText is the text of the last user message (string content or text blocks).
func (r *messagesRequest) lastUserText() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return strings.Join(texts(r.Messages[i].Content), "\n")
		}
	}
	return ""
}

// allText is every text of the request in order: system, then each message's
// text, tool_result and thinking content, so "echo" returns whatever was sent.
func (r *messagesRequest) allText() string {
	parts := texts(r.System)
	for _, m := range r.Messages {
		parts = append(parts, texts(m.Content)...)
	}
	return strings.Join(parts, "\n")
}

// texts extracts the strings of a content value: a string, or a list of blocks
// whose text, thinking or (nested) tool_result content is collected.
func texts(raw json.RawMessage) []string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	var blocks []struct {
		Type     string          `json:"type"`
		Text     string          `json:"text"`
		Thinking string          `json:"thinking"`
		Content  json.RawMessage `json:"content"`
	}
	if json.Unmarshal(raw, &blocks) != nil {
		return nil
	}
	var out []string
	for _, b := range blocks {
		switch {
		case b.Text != "":
			out = append(out, b.Text)
		case b.Thinking != "":
			out = append(out, b.Thinking)
		case b.Type == "tool_result":
			out = append(out, texts(b.Content)...)
		}
	}
	return out
}

// inputTokens estimates the prompt's size from its text (about four bytes a
// token, plus a fixed overhead), so count_tokens and usage agree whether or not
// the request streams.
func (r *messagesRequest) inputTokens() int {
	return 8 + len(r.allText())/4
}
