package fakeapi

import (
	"encoding/json"
	"net/http"
	"testing"
)

// The bash scenario drives a coding agent: the prompt's RUN: line becomes a
// Bash call; the turn reporting its result gets a final answer quoting it.
func TestBashScenario(t *testing.T) {
	s := newFake()
	h := http.Header{"X-Api-Key": {testKey}}
	first := `{"model":"fake-bash","max_tokens":64,"messages":[{"role":"user","content":[{"type":"text","text":"<system-reminder>x</system-reminder>"},{"type":"text","text":"please\nRUN: echo hi there\n"}]}]}`
	var m struct {
		StopReason string `json:"stop_reason"`
		Content    []struct {
			Type, Name, Text string
			Input            struct{ Command string }
		}
	}
	if err := json.Unmarshal(do(s, "POST", "/v1/messages", first, h).Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m.StopReason != "tool_use" || len(m.Content) != 2 || m.Content[1].Name != "Bash" || m.Content[1].Input.Command != "echo hi there" {
		t.Fatalf("first turn %+v", m)
	}
	second := `{"model":"fake-bash","max_tokens":64,"messages":[{"role":"user","content":"RUN: echo hi there"},` +
		`{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"echo hi there"}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"hi there"}]}]}`
	if err := json.Unmarshal(do(s, "POST", "/v1/messages", second, h).Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m.StopReason != "end_turn" || len(m.Content) != 1 || m.Content[0].Text != "The command finished. Its output: hi there" {
		t.Fatalf("second turn %+v", m)
	}
}
