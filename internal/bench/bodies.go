package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/airlock-dev/airlock/internal/fakeapi"
)

// SmallBody is a typical one-turn request; the fake answers with a short text.
var SmallBody = []byte(`{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"Write a haiku about proxies."}]}`)

// StreamBody asks for a streamed answer; the scenario headers shape it.
var StreamBody = []byte(`{"model":"claude-sonnet-4-5","max_tokens":4096,"stream":true,"messages":[{"role":"user","content":"Tell me a long story."}]}`)

// StreamHeader makes the fake stream n text deltas of size bytes, back to back.
func StreamHeader(n, size int) http.Header {
	return http.Header{"X-Fake-Scenario": {"long"}, "X-Fake-Events": {fmt.Sprint(n)}, "X-Fake-Delta-Size": {fmt.Sprint(size)}}
}

// PacedStreamHeader is StreamHeader with a pause of ms milliseconds between
// events, as a model produces them (far apart: tens of milliseconds).
func PacedStreamHeader(n, size, ms int) http.Header {
	h := StreamHeader(n, size)
	h.Set(fakeapi.HeaderIntervalMS, fmt.Sprint(ms))
	return h
}

// turnText is one conversational turn of a coding session: prose, code and a
// log, with the kind of strings masking looks for (all obviously fake).
const turnText = `Here is the handler that fails in production, and the log around the failure.
Please find why the retry loop never backs off and propose a fix.

func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := c.transport.RoundTrip(req.WithContext(ctx))
		if err == nil && resp.StatusCode < 500 {
			return resp, nil
		}
		if attempt >= c.maxRetries {
			return nil, fmt.Errorf("giving up after %d attempts: %w", attempt, err)
		}
		time.Sleep(c.backoff(attempt))
	}
}

2026-11-29T10:15:02Z level=error msg="upstream failed" host=db-7.internal user=jane.doe@example.com status=503
2026-11-29T10:15:02Z level=debug msg="config" ANTHROPIC_API_KEY=sk-ant-api03-FAKE-bench-key-not-real region=eu-west-1
`

// BigBody is a multi-turn conversation of about size bytes (the masking cost
// scenario: every turn is scanned on every request).
func BigBody(size int) []byte {
	type msg struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	var msgs []msg
	total := 0
	for i := 0; total < size; i++ {
		text := turnText
		if i%2 == 1 {
			text = strings.Repeat("The retry loop sleeps but never grows the delay because backoff(attempt) ignores attempt. ", 16)
		}
		msgs = append(msgs, msg{Role: []string{"user", "assistant"}[i%2], Content: fmt.Sprintf("Turn %d.\n%s", i, text)})
		total += len(text) + 40
	}
	if msgs[len(msgs)-1].Role != "user" {
		msgs = append(msgs, msg{Role: "user", Content: "So what is the fix?"})
	}
	b, _ := json.Marshal(map[string]any{"model": "claude-sonnet-4-5", "max_tokens": 1024, "messages": msgs})
	return b
}
