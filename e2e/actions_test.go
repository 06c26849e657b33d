package e2e

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/audit"
)

// An agent is told, in a streamed answer, to run a tool; it reports the
// result in its next request. `airlock actions list` shows the instruction
// (tool, input), who was told, and the result, linked across the two
// requests.
func TestActionsAreAudited(t *testing.T) {
	h := Start(t, Options{})
	sid := "e2e-actions-" + randomHex(t)
	tools := `"tools":[{"name":"Bash","description":"run a command","input_schema":{"type":"object"}}]`
	first := `{"model":"claude-haiku-4-5","max_tokens":256,"stream":true,` + tools + `,"messages":[{"role":"user","content":"check the weather"}]}`
	res := h.Run(t, "curl", curlMessages(first, "-N", "-H", "X-Claude-Code-Session-Id: "+sid, "-H", "x-fake-scenario: tool_use")...)
	m := regexp.MustCompile(`"id":"(toolu_[A-Za-z0-9_]+)"`).FindStringSubmatch(res.Stdout)
	if res.Code != 0 || m == nil {
		t.Fatalf("streamed tool call: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	id := m[1]
	second := `{"model":"claude-haiku-4-5","max_tokens":256,` + tools + `,"messages":[{"role":"user","content":"check the weather"},` +
		`{"role":"assistant","content":[{"type":"tool_use","id":"` + id + `","name":"Bash","input":{}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"` + id + `","content":"sunny, 21C"}]}]}`
	if res := h.Run(t, "curl", curlMessages(second, "-f", "-H", "X-Claude-Code-Session-Id: "+sid)...); res.Code != 0 {
		t.Fatalf("tool result request: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	list := h.Airlock(t, "--json", "actions", "list", "--session", sid)
	var views []struct {
		audit.Action
		Caller string            `json:"caller"`
		Result *audit.ToolResult `json:"result"`
		After  time.Duration     `json:"after_ns"`
	}
	if list.Code != 0 || json.Unmarshal([]byte(list.Stdout), &views) != nil || len(views) != 1 {
		t.Fatalf("actions list: exit %d\n%s%s", list.Code, list.Stdout, list.Stderr)
	}
	v := views[0]
	if v.ID != id || v.Tool != "Bash" || v.Decision != "allow" || !strings.Contains(v.Caller, "curl") || len(v.Input) == 0 {
		t.Errorf("action %+v", v)
	}
	if v.Result == nil || v.Result.IsError || v.Result.Excerpt != "sunny, 21C" || v.After <= 0 {
		t.Errorf("the result is not linked to the action: %+v after %v", v.Result, v.After)
	}
	if show := h.Airlock(t, "actions", "show", id); show.Code != 0 || !strings.Contains(show.Stdout, "sunny, 21C") {
		t.Errorf("actions show: exit %d\n%s%s", show.Code, show.Stdout, show.Stderr)
	}
}
