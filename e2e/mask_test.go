package e2e

import (
	"bytes"
	"encoding/json"
	"maps"
	"regexp"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/internal/fakeapi"
)

// Fake secrets of the shapes the detectors accept. The AWS id is AKIA + 16
// base-32 characters ([A-Z2-7]); AKIAFAKEFAKEFAKE0000 would not match, its
// zeros are not base-32, and is rightly left alone.
const (
	fakeAWSKeyID  = "AKIAFAKEFAKEFAKEFAKE"
	fakeAnthropic = "sk-ant-api03-FAKE-pasted-into-a-prompt"
)

var (
	awsPlaceholder       = regexp.MustCompile(`\[REDACTED:aws_access_key_id:[0-9a-f]+\]`)
	anthropicPlaceholder = regexp.MustCompile(`\[REDACTED:anthropic_api_key:[0-9a-f]+\]`)
)

// secretConversation is a tool-using conversation with the secrets in the
// system prompt, a user text block, a tool_use input and a tool_result;
// extraTurn appends an assistant answer and a new user turn (turn two).
func secretConversation(extraTurn bool) string {
	more := ""
	if extraTurn {
		more = `,{"role":"assistant","content":[{"type":"text","text":"Done."}]},{"role":"user","content":"thanks"}`
	}
	return `{"model":"claude-sonnet-4-5","max_tokens":64,` +
		`"system":"Deploy account ` + fakeAWSKeyID + ` only.",` +
		`"messages":[{"role":"user","content":[{"type":"text","text":"Use ` + fakeAWSKeyID + ` and ` + fakeAnthropic + ` please"}]},` +
		`{"role":"assistant","content":[{"type":"tool_use","id":"toolu_e2e_1","name":"deploy","input":{"account":"` + fakeAWSKeyID + `","dry_run":true}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_e2e_1","content":"deployed to ` + fakeAWSKeyID + `"}]}` +
		more + `]}`
}

// TestMaskE2E runs one daemon for every masking case.
func TestMaskE2E(t *testing.T) {
	h := Start(t, Options{})
	t.Run("prompt-secrets-and-resends", func(t *testing.T) { maskPrompt(t, h) })
	t.Run("streamed-secret", func(t *testing.T) { maskStream(t, h, true) })
	t.Run("json-secret", func(t *testing.T) { maskStream(t, h, false) })
}

// maskPrompt: the upstream gets placeholders, the same conversation twice is
// byte-identical upstream, turn two repeats turn one's bytes, and the audit
// record counts per detector.
func maskPrompt(t *testing.T, h *Harness) {
	h.Upstream.Reset()
	for _, body := range []string{secretConversation(false), secretConversation(false), secretConversation(true)} {
		if r := curlReply(t, h, messagesArgs(body, "x-api-key: "+leakedKeyOne)...); r.Status != 200 {
			t.Fatalf("status %d\n%s", r.Status, r.All)
		}
	}
	got := assertOnlyManaged(t, h, 3)
	for i, r := range got {
		body := string(r.Body)
		if strings.Contains(body, fakeAWSKeyID) || strings.Contains(body, fakeAnthropic) {
			t.Fatalf("upstream body %d holds a secret:\n%s", i, body)
		}
		if n := len(awsPlaceholder.FindAllString(body, -1)); n != 4 || !anthropicPlaceholder.MatchString(body) {
			t.Errorf("upstream body %d has %d AWS placeholders (want 4) and anthropic %v:\n%s", i, n, anthropicPlaceholder.MatchString(body), body)
		}
		if !json.Valid(r.Body) {
			t.Errorf("upstream body %d is not JSON: %s", i, body)
		}
	}
	if !bytes.Equal(got[0].Body, got[1].Body) {
		t.Errorf("the same conversation sent twice differs upstream:\n%s\n%s", got[0].Body, got[1].Body)
	}
	assertPrefixTurnsEqual(t, got[0].Body, got[2].Body)
	want := map[string]int{"aws_access_key_id": 4, "anthropic_api_key": 1}
	if rec := h.LastAudit(t); !maps.Equal(rec.Masked, want) {
		t.Errorf("audit masked counts %v, want %v", rec.Masked, want)
	}
}

// assertPrefixTurnsEqual checks turn two's system and first messages are
// byte for byte those of turn one, as the API requires of resent history.
func assertPrefixTurnsEqual(t *testing.T, one, two []byte) {
	t.Helper()
	type conv struct {
		System   json.RawMessage   `json:"system"`
		Messages []json.RawMessage `json:"messages"`
	}
	var a, b conv
	if json.Unmarshal(one, &a) != nil || json.Unmarshal(two, &b) != nil || len(b.Messages) != len(a.Messages)+2 {
		t.Fatalf("upstream bodies do not decode as turns one and two:\n%s\n%s", one, two)
	}
	if !bytes.Equal(a.System, b.System) {
		t.Errorf("system differs between turns: %s vs %s", a.System, b.System)
	}
	for i := range a.Messages {
		if !bytes.Equal(a.Messages[i], b.Messages[i]) {
			t.Errorf("message %d differs between turns:\n%s\n%s", i, a.Messages[i], b.Messages[i])
		}
	}
}
