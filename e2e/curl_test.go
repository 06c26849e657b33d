package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// leakedCurlKey is the key a careless script embeds; it must never reach the upstream.
const leakedCurlKey = "sk-ant-api03-FAKE-leaked-key-in-curl-script"

func curlMessages(body string, extra ...string) []string {
	args := []string{"-sS", "--max-time", "30", "https://" + APIHost + "/v1/messages",
		"-H", "x-api-key: " + leakedCurlKey, "-H", "anthropic-version: 2023-06-01",
		"-H", "content-type: application/json", "-d", body}
	return append(args, extra...)
}

func TestCurlMessage(t *testing.T) {
	h := Start(t, Options{})
	res := h.Run(t, "curl", curlMessages(`{"model":"claude-haiku-4-5","max_tokens":64,"messages":[{"role":"user","content":"hello airlock"}]}`)...)
	if res.Code != 0 {
		t.Fatalf("curl: exit %d\n%s\n%s\ndaemon:\n%s", res.Code, res.Stdout, res.Stderr, h.Log())
	}
	var msg struct {
		Type    string `json:"type"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &msg); err != nil || msg.Type != "message" || !strings.Contains(msg.Content[0].Text, "hello airlock") {
		t.Fatalf("curl got %s (%v)", res.Stdout, err)
	}
	h.AssertUpstreamGotOnlyManagedKey(t, 1, leakedCurlKey)
	rec := h.LastAudit(t)
	if rec.Caller.Comm != "curl" || rec.Decision != "allow" || rec.Status != 200 || rec.EmbeddedClass != "api_key" || rec.EmbeddedFP == "" {
		t.Fatalf("audit record %+v", rec)
	}
}

func TestCurlStream(t *testing.T) {
	h := Start(t, Options{})
	res := h.Run(t, "curl", curlMessages(`{"model":"claude-haiku-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"stream please"}]}`, "-N")...)
	if res.Code != 0 {
		t.Fatalf("curl: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	for _, want := range []string{"event: message_start", "event: content_block_delta", "event: message_stop"} {
		if !strings.Contains(res.Stdout, want) {
			t.Fatalf("stream lacks %q:\n%s", want, res.Stdout)
		}
	}
	h.AssertUpstreamGotOnlyManagedKey(t, 1, leakedCurlKey)
	if rec := h.LastAudit(t); !rec.Stream || rec.Status != 200 || rec.OutputTokens == 0 {
		t.Fatalf("audit record %+v", rec)
	}
}
