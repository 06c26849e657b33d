package fakeapi

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
)

const (
	testKey   = "sk-ant-api03-FAKE-demo-key-not-real"
	testToken = "sk-ant-oat01-FAKE-demo-token-not-real"
)

func startFake(t *testing.T) *Running {
	t.Helper()
	return StartTLS(t, Config{APIKeys: []string{testKey}, BearerTokens: []string{testToken}})
}

// sdkClient is the official Go SDK pointed at the fake, trusting its CA, not retrying.
func sdkClient(r *Running, opts ...option.RequestOption) anthropic.Client {
	base := []option.RequestOption{option.WithBaseURL(r.URL), option.WithHTTPClient(r.Client()),
		option.WithAPIKey(testKey), option.WithMaxRetries(0), option.WithRequestTimeout(30 * time.Second)}
	return anthropic.NewClient(append(base, opts...)...)
}

func userMessage(text string) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{Model: "claude-sonnet-4-5", MaxTokens: 256,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(text))}}
}

// TestSDKStreamMatchesJSON streams each scenario through the SDK's decoder and
// accumulator, and checks the result equals the non-streamed answer and the
// scenario's expected shape.
func TestSDKStreamMatchesJSON(t *testing.T) {
	r := startFake(t)
	cases := []struct {
		scenario string
		types    string // the content block types, in order
		stop     anthropic.StopReason
		check    func(t *testing.T, m *anthropic.Message)
	}{
		{ScenarioText, "text", "end_turn", wantText(0, "Hello! You said: héllo wörld 🌍")},
		{ScenarioEcho, "text", "end_turn", wantText(0, "héllo wörld 🌍")},
		{ScenarioToolUse, "text,tool_use", "tool_use", wantTool},
		{ScenarioThinking, "thinking,text", "end_turn", wantThinking},
		{ScenarioCitations, "text,text", "end_turn", wantCitation},
		{ScenarioLong, "text", "end_turn", wantText(0, loremText(200*20))},
		{ScenarioAgent, "text,tool_use", "tool_use", func(t *testing.T, m *anthropic.Message) { wantText(0, loremText(200*20))(t, m); wantTool(t, m) }},
		{ScenarioSlow, "text", "end_turn", wantText(0, "Hello! You said: héllo wörld 🌍")},
	}
	for _, tc := range cases {
		t.Run(tc.scenario, func(t *testing.T) {
			client := sdkClient(r, option.WithHeader(HeaderScenario, tc.scenario), option.WithHeader(HeaderIntervalMS, "0"))
			streamed := accumulate(t, client, userMessage("héllo wörld 🌍"))
			plain, err := client.Messages.New(context.Background(), userMessage("héllo wörld 🌍"))
			if err != nil {
				t.Fatalf("non-streamed: %v", err)
			}
			for _, m := range []*anthropic.Message{streamed, plain} {
				if got := blockTypes(m); got != tc.types || m.StopReason != tc.stop {
					t.Fatalf("blocks %q stop %q, want %q %q", got, m.StopReason, tc.types, tc.stop)
				}
				tc.check(t, m)
			}
			if streamed.Usage.OutputTokens != plain.Usage.OutputTokens || streamed.Usage.InputTokens != plain.Usage.InputTokens || streamed.Usage.OutputTokens < 1 {
				t.Fatalf("usage streamed %+v, plain %+v", streamed.Usage, plain.Usage)
			}
		})
	}
}

func accumulate(t *testing.T, client anthropic.Client, params anthropic.MessageNewParams) *anthropic.Message {
	t.Helper()
	stream := client.Messages.NewStreaming(context.Background(), params)
	defer stream.Close()
	var m anthropic.Message
	for stream.Next() {
		if err := m.Accumulate(stream.Current()); err != nil {
			t.Fatalf("accumulating: %v", err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	return &m
}

func blockTypes(m *anthropic.Message) string {
	var types []string
	for _, b := range m.Content {
		types = append(types, b.Type)
	}
	return strings.Join(types, ",")
}

func wantText(i int, text string) func(*testing.T, *anthropic.Message) {
	return func(t *testing.T, m *anthropic.Message) {
		if m.Content[i].Text != text {
			t.Fatalf("text %q, want %q", m.Content[i].Text, text)
		}
	}
}

func wantTool(t *testing.T, m *anthropic.Message) {
	b := m.Content[1]
	var input map[string]string
	if err := json.Unmarshal(b.Input, &input); err != nil || input["location"] != "San Francisco, CA" || b.Name != "get_weather" || !strings.HasPrefix(b.ID, "toolu_") {
		t.Fatalf("tool_use block %+v (input %s, err %v)", b, b.Input, err)
	}
}

func wantThinking(t *testing.T, m *anthropic.Message) {
	if b := m.Content[0]; b.Thinking != thinkingText || b.Signature != fakeSignature {
		t.Fatalf("thinking %q signature %q", b.Thinking, b.Signature)
	}
}

func wantCitation(t *testing.T, m *anthropic.Message) {
	b := m.Content[1]
	if len(b.Citations) != 1 || b.Citations[0].Type != "char_location" || b.Citations[0].CitedText != citedText {
		t.Fatalf("citations %+v", b.Citations)
	}
}

// TestSDKTypedErrors checks errors decode as the SDK's *anthropic.Error with
// the API's status and type, including an error event after HTTP 200.
func TestSDKTypedErrors(t *testing.T) {
	r := startFake(t)
	ctx := context.Background()
	client := sdkClient(r)
	_, err := client.Messages.New(ctx, userMessage("hi"), option.WithAPIKey("sk-ant-api03-FAKE-wrong-key"))
	wantAPIError(t, err, 401, anthropic.ErrorTypeAuthenticationError)
	_, err = client.Messages.New(ctx, userMessage("hi"), option.WithHeader(HeaderScenario, ScenarioError), option.WithHeader(HeaderStatus, "529"))
	wantAPIError(t, err, 529, anthropic.ErrorTypeOverloadedError)
	_, err = client.Models.Get(ctx, "claude-none-1", anthropic.ModelGetParams{})
	wantAPIError(t, err, 404, anthropic.ErrorTypeNotFoundError)

	stream := client.Messages.NewStreaming(ctx, userMessage("hi"), option.WithHeader(HeaderScenario, ScenarioMidstreamErr))
	defer stream.Close()
	events := 0
	for stream.Next() {
		events++
	}
	if events < 4 {
		t.Fatalf("only %d events before the error, want message_start, ping, a block start and deltas", events)
	}
	var apiErr *anthropic.Error
	if !errors.As(stream.Err(), &apiErr) || apiErr.Type() != anthropic.ErrorTypeOverloadedError {
		t.Fatalf("mid-stream error %v, want an overloaded_error *anthropic.Error", stream.Err())
	}
}

func wantAPIError(t *testing.T, err error, status int, errType anthropic.ErrorType) {
	t.Helper()
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != status || apiErr.Type() != errType || apiErr.RequestID == "" {
		t.Fatalf("error %v, want *anthropic.Error %d %s with a request id", err, status, errType)
	}
}

// TestSDKBearerAndModels authenticates with a bearer token and lists models.
func TestSDKBearerAndModels(t *testing.T) {
	r := startFake(t)
	client := anthropic.NewClient(option.WithBaseURL(r.URL), option.WithHTTPClient(r.Client()),
		option.WithAuthToken(testToken), option.WithMaxRetries(0))
	page, err := client.Models.List(context.Background(), anthropic.ModelListParams{})
	if err != nil || len(page.Data) != len(models) || page.Data[0].ID != models[0].ID {
		t.Fatalf("models %+v, err %v", page, err)
	}
	count, err := client.Messages.CountTokens(context.Background(), anthropic.MessageCountTokensParams{Model: "claude-sonnet-4-5",
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
	if err != nil || count.InputTokens < 1 {
		t.Fatalf("count_tokens %+v, err %v", count, err)
	}
	got := r.Requests()
	if len(got) != 2 || got[0].Header.Get("Authorization") != "Bearer "+testToken || got[0].Header.Get("X-Api-Key") != "" {
		t.Fatalf("recorded %d requests, first headers %v", len(got), got[0].Header)
	}
}
