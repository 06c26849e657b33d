package fakeapi

import (
	"encoding/json"
	"strings"
)

// RunMarker starts the line of a prompt that the bash scenario runs: a user
// asking "RUN: echo hello" gets a Bash tool call with that command.
const RunMarker = "RUN: "

// bashTurn is one turn of a coding agent (Claude Code, the Agent SDK, a tool
// runner) driven by the prompt: first a Bash tool_use running the prompt's
// RUN: line; once the client reports its tool_result, a final answer quoting
// the result, so the conversation ends as a real one does.
func (s *Server) bashTurn(req *messagesRequest) answer {
	if result, ok := req.lastToolResult(); ok {
		return answer{blocks: []block{textBlock("The command finished. Its output: " + truncateUTF8(result, textQuoteMax))},
			stopReason: "end_turn", failAfter: -1}
	}
	cmd := commandIn(req.lastUserText())
	if cmd == "" {
		return answer{blocks: []block{textBlock("Nothing to run: say " + RunMarker + "<command>.")}, stopReason: "end_turn", failAfter: -1}
	}
	in, _ := json.Marshal(map[string]string{"command": cmd, "description": "Run the command the user asked for"})
	tool := block{Type: "tool_use", ID: s.nextID("toolu_fake"), Name: "Bash", Input: string(in)}
	return answer{blocks: []block{textBlock("I'll run that command."), tool}, stopReason: "tool_use", failAfter: -1}
}

// commandIn is the rest of the first line of text that starts with RunMarker.
func commandIn(text string) string {
	for line := range strings.SplitSeq(text, "\n") {
		if cmd, ok := strings.CutPrefix(strings.TrimSpace(line), RunMarker); ok {
			return strings.TrimSpace(cmd)
		}
	}
	return ""
}

// lastToolResult is the text of a tool_result in the last user turn, if any.
func (r *messagesRequest) lastToolResult() (string, bool) {
	if len(r.Messages) == 0 || r.Messages[len(r.Messages)-1].Role != "user" {
		return "", false
	}
	var blocks []struct {
		Type    string          `json:"type"`
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(r.Messages[len(r.Messages)-1].Content, &blocks) != nil {
		return "", false
	}
	for _, b := range blocks {
		if b.Type == "tool_result" {
			return strings.Join(texts(b.Content), "\n"), true
		}
	}
	return "", false
}
