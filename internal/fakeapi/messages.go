package fakeapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/airlock-dev/airlock/apierror"
)

// usage is the API's token accounting object.
type usage struct {
	InputTokens   int    `json:"input_tokens"`
	CacheCreation int    `json:"cache_creation_input_tokens"`
	CacheRead     int    `json:"cache_read_input_tokens"`
	OutputTokens  int    `json:"output_tokens"`
	ServiceTier   string `json:"service_tier,omitempty"`
}

// message is the API's Message object.
type message struct {
	ID           string  `json:"id"`
	Type         string  `json:"type"`
	Role         string  `json:"role"`
	Model        string  `json:"model"`
	Content      []any   `json:"content"`
	StopReason   *string `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
	Usage        usage   `json:"usage"`
}

func (s *Server) messages(w http.ResponseWriter, r *http.Request, c *call) {
	req, msg := parseMessages(c.body)
	if msg != "" {
		apierror.Write(w, http.StatusBadRequest, apierror.InvalidRequest, msg, c.id)
		return
	}
	p, msg := paramsFor(r.Header, req.Model, s.cfg.ThinkTime)
	if msg != "" {
		apierror.Write(w, http.StatusBadRequest, apierror.InvalidRequest, msg, c.id)
		return
	}
	if !sleep(r.Context(), p.think) {
		return
	}
	if p.scenario == ScenarioError || (p.scenario == ScenarioMidstreamErr && !req.Stream) {
		writeStatusError(w, p.status, c.id)
		return
	}
	a := s.answerFor(req, p)
	in := req.inputTokens()
	setRateLimitHeaders(w.Header(), in, a.outputTokens())
	m := message{ID: s.nextID("msg_fake"), Type: "message", Role: "assistant", Model: req.Model,
		Usage: usage{InputTokens: in, ServiceTier: "standard"}}
	if req.Stream {
		streamAnswer(r.Context(), w, m, a, p.interval)
		return
	}
	m.StopReason, m.Usage.OutputTokens = &a.stopReason, a.outputTokens()
	for _, b := range a.blocks {
		m.Content = append(m.Content, b.wire(true))
	}
	body, _ := json.Marshal(m)
	writeJSON(w, http.StatusOK, body)
}

// writeStatusError answers with the error type the API uses for status.
func writeStatusError(w http.ResponseWriter, status int, reqID string) {
	types := map[int]string{400: apierror.InvalidRequest, 401: apierror.Authentication, 402: "billing_error",
		403: apierror.Permission, 404: apierror.NotFound, 413: apierror.RequestTooLarge, 429: apierror.RateLimit,
		500: apierror.API, 529: apierror.Overloaded}
	errType, ok := types[status]
	if !ok {
		errType = apierror.API
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	apierror.Write(w, status, errType, "fake "+errType, reqID)
}

// setRateLimitHeaders adds the anthropic-ratelimit-* headers the API sends.
func setRateLimitHeaders(h http.Header, in, out int) {
	reset := time.Now().Add(time.Minute).UTC().Truncate(time.Second).Format(time.RFC3339)
	for _, f := range []struct {
		kind       string
		limit, use int
	}{{"requests", 4000, 1}, {"input-tokens", 2000000, in}, {"output-tokens", 400000, out}, {"tokens", 2400000, in + out}} {
		h.Set("Anthropic-Ratelimit-"+f.kind+"-Limit", strconv.Itoa(f.limit))
		h.Set("Anthropic-Ratelimit-"+f.kind+"-Remaining", strconv.Itoa(f.limit-f.use))
		h.Set("Anthropic-Ratelimit-"+f.kind+"-Reset", reset)
	}
}

// Wire forms of the content blocks: the full block, or the empty shell that
// content_block_start carries.
type (
	textWire struct {
		Type      string `json:"type"`
		Text      string `json:"text"`
		Citations any    `json:"citations,omitempty"`
	}
	toolWire struct {
		Type  string          `json:"type"`
		ID    string          `json:"id"`
		Name  string          `json:"name"`
		Input json.RawMessage `json:"input"`
	}
	thinkingWire struct {
		Type      string `json:"type"`
		Thinking  string `json:"thinking"`
		Signature string `json:"signature"`
	}
)

func (b *block) wire(final bool) any {
	switch b.Type {
	case "tool_use":
		if final {
			return toolWire{b.Type, b.ID, b.Name, json.RawMessage(b.Input)}
		}
		return toolWire{b.Type, b.ID, b.Name, json.RawMessage("{}")}
	case "thinking":
		if final {
			return thinkingWire{b.Type, b.Thinking, b.Signature}
		}
		return thinkingWire{Type: b.Type}
	}
	var cites any
	if b.Citations != nil {
		cites = []citation{}
		if final {
			cites = b.Citations
		}
	}
	if final {
		return textWire{b.Type, b.Text, cites}
	}
	return textWire{Type: b.Type, Citations: cites}
}

// sleep waits d, or returns false when ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
