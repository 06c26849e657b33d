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
	t.Run("go-sdk-stream", func(t *testing.T) { maskGoSDK(t, h) })
	t.Run("managed-key-in-prompt", func(t *testing.T) { maskManagedKey(t, h) })
}

// maskManagedKey: the managed credential pasted into a prompt is masked like
// any secret: the upstream body and the echoed stream never carry it.
func maskManagedKey(t *testing.T, h *Harness) {
	h.Upstream.Reset()
	body := `{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"is ` + ManagedKey + ` valid?"}]}`
	r := curlReply(t, h, curlMessagesArgs(body, "x-api-key: "+leakedKeyOne, fakeapi.HeaderScenario+": echo")...)
	if r.Status != 200 {
		t.Fatalf("status %d\n%s", r.Status, r.All)
	}
	up := string(assertOnlyManaged(t, h, 1)[0].Body)
	if strings.Contains(up, ManagedKey) || !strings.Contains(up, "[REDACTED:") {
		t.Fatalf("the managed key in the prompt was not masked upstream:\n%s", up)
	}
	if text := sseTextOf(t, r.Body); !strings.HasPrefix(text, "is [REDACTED:") || !strings.HasSuffix(text, "] valid?") {
		t.Errorf("echoed text %q", text)
	}
	assertNoManagedKey(t, h, "managed key in a prompt", r)
}

// maskGoSDK: the official Go SDK streams an answer quoting its masked prompt
// and accumulates it without error.
func maskGoSDK(t *testing.T, h *Harness) {
	h.Upstream.Reset()
	res := h.GoSDK(t, "stream", "Use "+fakeAWSKeyID+" now")
	var out struct{ Text, Error string }
	if res.JSON(t, &out); res.Code != 0 {
		t.Fatalf("gosdk: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	up := string(assertOnlyManaged(t, h, 1)[0].Body)
	ph := awsPlaceholder.FindString(up)
	if ph == "" || strings.Contains(up, fakeAWSKeyID) {
		t.Fatalf("upstream body:\n%s", up)
	}
	if want := "Hello! You said: Use " + ph + " now"; out.Text != want {
		t.Errorf("the SDK accumulated %q, want %q", out.Text, want)
	}
}

// maskPrompt: the upstream gets placeholders, the same conversation twice is
// byte-identical upstream, turn two repeats turn one's bytes, and the audit
// record counts per detector.
func maskPrompt(t *testing.T, h *Harness) {
	h.Upstream.Reset()
	for _, body := range []string{secretConversation(false), secretConversation(false), secretConversation(true)} {
		if r := curlReply(t, h, curlMessagesArgs(body, "x-api-key: "+leakedKeyOne)...); r.Status != 200 {
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

// Thinking blocks the client sends back: they carry the secrets, and must
// reach the upstream byte for byte (their signature covers them).
const (
	thinkingBlock = `{"type":"thinking","thinking":"The account is ` + fakeAWSKeyID + ` and the login ` + fakeAnthropic +
		`, so use both.","signature":"EqQBCkYIARgCIkBGQUtFLXNpZ25hdHVyZS1ub3QtcmVhbA=="}`
	redactedBlock = `{"type":"redacted_thinking","data":"RkFLRS1yZWRhY3RlZC10aGlua2luZy1ub3QtcmVhbA=="}`
	thinkingText  = "The account is " + fakeAWSKeyID + " and the login " + fakeAnthropic + ", so use both."
)

func thinkingConversation(stream bool) string {
	s := "false"
	if stream {
		s = "true"
	}
	return `{"model":"claude-sonnet-4-5","max_tokens":64,"stream":` + s + `,"messages":[` +
		`{"role":"user","content":"Think about the deployment."},` +
		`{"role":"assistant","content":[` + thinkingBlock + `,` + redactedBlock + `,{"type":"text","text":"I thought about it."}]},` +
		`{"role":"user","content":"Again with ` + fakeAWSKeyID + ` and ` + fakeAnthropic + `"}]}`
}

// maskStream: the fake API echoes every text of the request, the untouched
// thinking included, so it "leaks" the secrets back (in 3-byte deltas when
// streaming); the client gets exactly the masked text and a valid stream.
func maskStream(t *testing.T, h *Harness, stream bool) {
	h.Upstream.Reset()
	r := curlReply(t, h, curlMessagesArgs(thinkingConversation(stream), "x-api-key: "+leakedKeyOne,
		fakeapi.HeaderScenario+": echo", fakeapi.HeaderChunk+": 3")...)
	if r.Status != 200 {
		t.Fatalf("status %d\n%s", r.Status, r.All)
	}
	up := string(assertOnlyManaged(t, h, 1)[0].Body)
	if !strings.Contains(up, thinkingBlock) || !strings.Contains(up, redactedBlock) {
		t.Fatalf("thinking blocks changed on the way up:\n%s", up)
	}
	awsPH, antPH := awsPlaceholder.FindString(up), anthropicPlaceholder.FindString(up)
	if awsPH == "" || antPH == "" || strings.Count(up, fakeAWSKeyID) != 1 || strings.Count(up, fakeAnthropic) != 1 {
		t.Fatalf("want the secrets masked everywhere but in the thinking block:\n%s", up)
	}
	echo := "Think about the deployment.\n" + thinkingText + "\nI thought about it.\nAgain with " + fakeAWSKeyID + " and " + fakeAnthropic
	want := strings.NewReplacer(fakeAWSKeyID, awsPH, fakeAnthropic, antPH).Replace(echo)
	var text string
	if stream {
		text = sseTextOf(t, r.Body)
	} else {
		text = messageTextOf(t, r.Body)
	}
	if strings.Contains(r.All, fakeAWSKeyID) || strings.Contains(r.All, fakeAnthropic) {
		t.Fatalf("a secret reached the client:\n%s", r.All)
	}
	if text != want {
		t.Errorf("client text:\n%q\nwant:\n%q", text, want)
	}
	wantCounts := map[string]int{"aws_access_key_id": 2, "anthropic_api_key": 2} // one each way
	if rec := h.LastAudit(t); !maps.Equal(rec.Masked, wantCounts) || rec.MaskIncomplete {
		t.Errorf("audit masked counts %v (incomplete %v), want %v", rec.Masked, rec.MaskIncomplete, wantCounts)
	}
}

// messageTextOf is the text of a non-streamed Messages response.
func messageTextOf(t *testing.T, body string) string {
	t.Helper()
	var m struct {
		Type    string `json:"type"`
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil || m.Type != "message" || len(m.Content) != 1 {
		t.Fatalf("not a one-block message (%v):\n%s", err, body)
	}
	return m.Content[0].Text
}

// sseTextOf checks the stream is valid SSE in the Messages shape (each event
// has a name and a JSON data line of that type; message_start first,
// message_stop last) and returns the text its text_delta events spell.
func sseTextOf(t *testing.T, body string) string {
	t.Helper()
	if !strings.HasSuffix(body, "\n\n") {
		t.Fatalf("stream does not end with a complete event:\n%q", body)
	}
	var names []string
	var text strings.Builder
	for _, ev := range strings.Split(strings.TrimSuffix(body, "\n\n"), "\n\n") {
		name, data := sseFields(t, ev)
		names = append(names, name)
		var d struct {
			Type  string `json:"type"`
			Delta struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"delta"`
		}
		if err := json.Unmarshal([]byte(data), &d); err != nil || d.Type != name {
			t.Fatalf("event %q has data %q (%v)", name, data, err)
		}
		if d.Delta.Type == "text_delta" {
			text.WriteString(d.Delta.Text)
		}
	}
	if names[0] != "message_start" || names[len(names)-1] != "message_stop" {
		t.Fatalf("stream events %v: want message_start first and message_stop last", names)
	}
	return text.String()
}

// sseFields parses one event's "event:" and "data:" lines.
func sseFields(t *testing.T, ev string) (name, data string) {
	t.Helper()
	for _, line := range strings.Split(ev, "\n") {
		field, value, ok := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch {
		case !ok:
			t.Fatalf("malformed SSE line %q in event %q", line, ev)
		case field == "event":
			name = value
		case field == "data":
			data += value
		}
	}
	if name == "" || data == "" {
		t.Fatalf("event without a name or data: %q", ev)
	}
	return name, data
}
