// Package transcript presents recorded sessions to a person: RenderSession
// prints a conversation (prompts, tool calls, streamed answers) once, and
// Replay and ReplaySession write a recording back at its original pace. It
// reads audit's types; the store itself stays free of presentation.
package transcript

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/internal/visible"
)

// RenderSession prints a session as a readable conversation: each request's
// new prompts and tool results, then the answer (text, tool calls) decoded
// from the recorded SSE stream or JSON body. Clients resend the whole history
// each time, so only messages not seen in the previous request are printed.
// Control and invisible characters are shown as escapes (package visible):
// the text is the watched programs' and the model's, read by a reviewer.
func RenderSession(w io.Writer, d audit.SessionDetail) error {
	var b strings.Builder
	fmt.Fprintf(&b, "session %s · %d requests · %s .. %s\n", d.ID, d.Records, d.First.UTC().Format(time.RFC3339), d.Last.UTC().Format(time.RFC3339))
	seen := 0
	for _, e := range d.Entries {
		seen = renderEntry(&b, e, seen)
	}
	_, err := io.WriteString(w, visible.Text(b.String()))
	return err
}

func renderEntry(w io.Writer, e audit.Entry, seen int) int {
	r := e.Record
	fmt.Fprintf(w, "\n── #%d %s · %s · %s %s · %s (%s) · status %d · %s\n", r.ID, r.Time.UTC().Format(time.RFC3339),
		r.Model, r.Method, r.Path, r.Decision, r.Rule, r.Status, r.Duration.Round(time.Millisecond))
	if r.Approver != "" {
		fmt.Fprintf(w, "   approved by %s (approval %s)\n", r.Approver, r.ApprovalID)
	}
	if e.Recording == nil {
		fmt.Fprintln(w, "   (metadata only: no recording kept)")
		return seen
	}
	seen = renderRequest(w, e.Recording.RequestBody, seen)
	renderResponse(w, e.Recording)
	return seen
}

type apiMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type apiBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Thinking  string          `json:"thinking"`
	Name      string          `json:"name"`
	ID        string          `json:"id"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
	IsError   bool            `json:"is_error"`
}

func renderRequest(w io.Writer, body []byte, seen int) int {
	var req struct {
		Messages []apiMessage `json:"messages"`
	}
	if json.Unmarshal(body, &req) != nil {
		fmt.Fprintf(w, "request: %s\n", excerpt(string(body), 400))
		return seen
	}
	if seen > len(req.Messages) { // history was rewritten (e.g. compacted): show it all
		seen = 0
	}
	for _, m := range req.Messages[seen:] {
		for _, b := range blocks(m.Content) {
			renderBlock(w, m.Role, b)
		}
	}
	return len(req.Messages) + 1 // the answer below is the next message of the history
}

// blocks accepts both content shapes: a plain string or a list of blocks.
func blocks(raw json.RawMessage) []apiBlock {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []apiBlock{{Type: "text", Text: s}}
	}
	var bs []apiBlock
	_ = json.Unmarshal(raw, &bs)
	return bs
}

func renderBlock(w io.Writer, role string, b apiBlock) {
	switch b.Type {
	case "text":
		fmt.Fprintf(w, "%s: %s\n", role, indent(b.Text))
	case "thinking":
		fmt.Fprintf(w, "%s (thinking): %s\n", role, indent(excerpt(b.Thinking, 400)))
	case "tool_use", "server_tool_use":
		fmt.Fprintf(w, "%s → tool call %s %s\n", role, b.Name, excerpt(string(b.Input), 800))
	case "tool_result":
		var text []string
		for _, c := range blocks(b.Content) {
			text = append(text, c.Text)
		}
		mark := ""
		if b.IsError {
			mark = " (error)"
		}
		fmt.Fprintf(w, "%s → tool result%s: %s\n", role, mark, indent(excerpt(strings.Join(text, "\n"), 800)))
	default:
		fmt.Fprintf(w, "%s: [%s]\n", role, b.Type)
	}
}

func indent(s string) string { return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ") }

func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func renderResponse(w io.Writer, rc *audit.Recording) {
	var all bytes.Buffer
	for _, ev := range rc.Events {
		all.Write(ev.Data)
	}
	if strings.Contains(rc.ContentType, "event-stream") {
		renderStream(w, all.Bytes())
		return
	}
	var msg struct {
		Content []apiBlock `json:"content"`
		Error   *struct {
			Type, Message string
		} `json:"error"`
	}
	if json.Unmarshal(all.Bytes(), &msg) != nil {
		fmt.Fprintf(w, "response: %s\n", excerpt(all.String(), 400))
		return
	}
	if msg.Error != nil {
		fmt.Fprintf(w, "error: %s: %s\n", msg.Error.Type, msg.Error.Message)
	}
	for _, b := range msg.Content {
		renderBlock(w, "assistant", b)
	}
}
