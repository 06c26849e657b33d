// Command gosdk is an unmodified application using the official Go SDK: the
// default base URL (https://api.anthropic.com), an API key embedded in the
// code, no Airlock-specific setting. Airlock's end-to-end tests build it and
// run it inside the capture sandbox; it prints one JSON line.
// Usage: gosdk message|stream|tools [prompt]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
)

const leakedKey = "sk-ant-api03-FAKE-leaked-key-in-go-app" // what a careless app ships

type result struct {
	ID         string          `json:"id,omitempty"`
	Text       string          `json:"text"`
	StopReason string          `json:"stop_reason"`
	Tool       string          `json:"tool,omitempty"`
	Input      json.RawMessage `json:"input,omitempty"`
	FirstStop  string          `json:"first_stop,omitempty"`
	Deltas     int             `json:"deltas,omitempty"`
	Error      string          `json:"error,omitempty"`
	Status     int             `json:"status,omitempty"`
	Type       string          `json:"type,omitempty"`
}

func main() {
	mode, prompt := "message", "Hello from the Go SDK"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	if len(os.Args) > 2 {
		prompt = os.Args[2]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := anthropic.NewClient(option.WithAPIKey(leakedKey), option.WithMaxRetries(0))
	modes := map[string]func(context.Context, anthropic.Client, string) (result, error){
		"message": message, "stream": stream, "tools": tools,
	}
	run, ok := modes[mode]
	if !ok {
		fmt.Fprintln(os.Stderr, "usage: gosdk message|stream|tools [prompt]")
		os.Exit(2)
	}
	r, err := run(ctx, client, prompt)
	if err != nil {
		r = errorResult(err)
	}
	json.NewEncoder(os.Stdout).Encode(r)
	if err != nil {
		os.Exit(1)
	}
}

func errorResult(err error) result {
	r := result{Error: err.Error()}
	var apiErr *anthropic.Error
	if errors.As(err, &apiErr) {
		r.Status, r.Type = apiErr.StatusCode, string(apiErr.Type())
	}
	return r
}

func params(model, prompt string) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{Model: anthropic.Model(model), MaxTokens: 256,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(prompt))}}
}

func message(ctx context.Context, c anthropic.Client, prompt string) (result, error) {
	m, err := c.Messages.New(ctx, params("claude-haiku-4-5", prompt))
	if err != nil {
		return result{}, err
	}
	return result{ID: m.ID, Text: textOf(m), StopReason: string(m.StopReason)}, nil
}

func stream(ctx context.Context, c anthropic.Client, prompt string) (result, error) {
	s := c.Messages.NewStreaming(ctx, params("claude-haiku-4-5", prompt))
	defer s.Close()
	var m anthropic.Message
	deltas := 0
	for s.Next() {
		ev := s.Current()
		if ev.Type == "content_block_delta" {
			deltas++
		}
		if err := m.Accumulate(ev); err != nil {
			return result{}, err
		}
	}
	if err := s.Err(); err != nil {
		return result{}, err
	}
	return result{ID: m.ID, Text: textOf(&m), StopReason: string(m.StopReason), Deltas: deltas}, nil
}

// tools: the model asks for a tool, the app runs it and sends the result back.
func tools(ctx context.Context, c anthropic.Client, prompt string) (result, error) {
	weather := anthropic.ToolParam{Name: "get_weather", Description: anthropic.String("Current weather for a city"),
		InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"location": map[string]any{"type": "string"}}}}
	p := params("fake-tool_use", prompt)
	p.Tools = []anthropic.ToolUnionParam{{OfTool: &weather}}
	first, err := c.Messages.New(ctx, p)
	if err != nil {
		return result{}, err
	}
	var use anthropic.ContentBlockUnion
	for _, b := range first.Content {
		if b.Type == "tool_use" {
			use = b
		}
	}
	if use.ID == "" {
		return result{}, errors.New("the model asked for no tool")
	}
	p.Model = "claude-haiku-4-5"
	p.Messages = append(p.Messages, first.ToParam(),
		anthropic.NewUserMessage(anthropic.NewToolResultBlock(use.ID, "18°C and sunny", false)))
	second, err := c.Messages.New(ctx, p)
	if err != nil {
		return result{}, err
	}
	return result{Text: textOf(second), StopReason: string(second.StopReason), Tool: use.Name,
		Input: use.Input, FirstStop: string(first.StopReason)}, nil
}

func textOf(m *anthropic.Message) string {
	var b strings.Builder
	for _, c := range m.Content {
		if c.Type == "text" {
			b.WriteString(c.Text)
		}
	}
	return b.String()
}
