package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Claude Code's traffic, as MACHINE_FACTS.md measured it: every turn is a
// streamed POST /v1/messages of about 50 KB — a long system prompt, some
// twenty tool definitions and the whole conversation so far, resent every
// turn — answered by a few hundred streamed events that end in a tool call.
const (
	ClaudeCodeTurns  = 12  // turns of one conversation before the next starts
	ClaudeCodeEvents = 480 // text deltas per answer; with the tool call ~500 events
)

// ClaudeCodeHeader makes the fake answer as the agent does: text deltas,
// then a tool_use block (stop_reason tool_use).
func ClaudeCodeHeader(events int) http.Header {
	return http.Header{"X-Fake-Scenario": {"agent"}, "X-Fake-Events": {fmt.Sprint(events)}, "X-Fake-Delta-Size": {"12"}}
}

// ClaudeCodeConversation is one session's request bodies, turn by turn:
// body i carries the system prompt, the tools and i earlier exchanges. The
// session tag makes each worker's conversation its own, as each agent's is.
func ClaudeCodeConversation(session, turns int) [][]byte {
	system := []map[string]any{
		{"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
		{"type": "text", "text": repeatTo(ccInstructions, 12<<10), "cache_control": map[string]string{"type": "ephemeral"}},
	}
	tools := ccTools()
	ask := fmt.Sprintf("Session %d: the retry loop in client.go still hammers the server; find why and fix it.", session)
	msgs := []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": ask}}}}
	bodies := make([][]byte, 0, turns)
	for turn := range turns {
		if turn > 0 { // the agent loop: the last answer's tool call, and its result
			msgs = append(msgs, ccToolTurn(session, turn)...)
		}
		b, _ := json.Marshal(map[string]any{"model": "claude-sonnet-4-5", "max_tokens": 32000, "stream": true,
			"system": system, "tools": tools, "messages": msgs,
			"metadata": map[string]string{"user_id": fmt.Sprintf("user_bench_session_%d", session)}})
		bodies = append(bodies, b)
	}
	return bodies
}

// ccToolTurn is what one answered turn adds to the history: the assistant's
// tool call and the tool's result (a file the agent read).
func ccToolTurn(session, turn int) []any {
	id := fmt.Sprintf("toolu_bench_%d_%d", session, turn)
	call := map[string]any{"role": "assistant", "content": []any{
		map[string]any{"type": "text", "text": "Let me read the file that holds the retry loop."},
		map[string]any{"type": "tool_use", "id": id, "name": "Read", "input": map[string]string{"file_path": "/src/client.go"}},
	}}
	result := map[string]any{"role": "user", "content": []any{
		map[string]any{"type": "tool_result", "tool_use_id": id, "content": repeatTo(turnText, 2<<10)},
	}}
	return []any{call, result}
}

// ccTools are twenty tool definitions shaped like Claude Code's: a long
// description and a JSON schema each.
func ccTools() []any {
	names := []string{"Task", "Bash", "Glob", "Grep", "LS", "ExitPlanMode", "Read", "Edit", "MultiEdit", "Write",
		"NotebookEdit", "WebFetch", "TodoWrite", "WebSearch", "BashOutput", "KillShell", "SlashCommand", "ListMcpResources", "ReadMcpResource", "AskUser"}
	tools := make([]any, 0, len(names))
	for _, n := range names {
		tools = append(tools, map[string]any{"name": n, "description": repeatTo(n+": "+ccToolDoc, 900),
			"input_schema": map[string]any{"type": "object", "additionalProperties": false, "required": []string{"path"},
				"properties": map[string]any{
					"path":    map[string]string{"type": "string", "description": "The absolute path to operate on"},
					"limit":   map[string]string{"type": "number", "description": "The number of lines to read"},
					"pattern": map[string]string{"type": "string", "description": "The pattern to search for"},
				}}})
	}
	return tools
}

const ccInstructions = `You are an interactive CLI tool that helps users with software engineering tasks.
Use the instructions below and the tools available to you to assist the user. Never guess URLs.
When you run a non-trivial bash command, explain what the command does and why you are running it.
Keep your responses short, since they will be displayed on a command line interface. Follow the
conventions of the code base: mimic its style, use its libraries and utilities, follow its patterns.
`

const ccToolDoc = `Reads or changes files and runs commands in the user's workspace. Usage notes: the path must
be absolute, not relative; results longer than 30000 characters are truncated; prefer batching independent
calls in one message; never use this tool to communicate with the user, write text instead. `

// repeatTo repeats s until the result is at least n bytes.
func repeatTo(s string, n int) string {
	return strings.Repeat(s, n/len(s)+1)
}
