package cli

import (
	"testing"
	"time"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/caller"
)

// A result links to the action it answers only when the agent that was told
// reports it: not another user's process, not another program that read the
// id from the agent's files, not a process on another host.
func TestResultsLinkOnlyFromTheAgentThatWasTold(t *testing.T) {
	agent := caller.Process{PID: 10, UID: 1000, Exe: "/usr/bin/node", ExeIno: 77, ExeDev: "8:1"}
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	told := audit.Record{ID: 1, Host: "h1", Time: t0, Caller: agent,
		Actions: []audit.Action{{ID: "toolu_1", Tool: "Bash"}, {ID: "toolu_2", Tool: "Bash"}}}
	result := func(id int64, host string, p caller.Process, tool, excerpt string) audit.Record {
		return audit.Record{ID: id, Host: host, Time: t0.Add(time.Duration(id) * time.Second), Caller: p,
			ToolResults: []audit.ToolResult{{ToolUseID: tool, Excerpt: excerpt}}}
	}
	other := agent
	other.UID = 1001
	forger := caller.Process{PID: 11, UID: 1000, Exe: "/usr/bin/python3", ExeIno: 78, ExeDev: "8:1"}
	nextTurn := agent
	nextTurn.PID = 12 // the same program, a new process
	views := linkActions([]audit.Record{told,
		result(2, "h1", other, "toolu_1", "forged by another user"),
		result(3, "h1", forger, "toolu_1", "forged by another program"),
		result(4, "h2", agent, "toolu_1", "from another host"),
		result(5, "h1", agent, "toolu_1", "the agent's own"),
		result(6, "h1", nextTurn, "toolu_2", "the next turn's"),
	})
	if len(views) != 2 || views[0].Result == nil || views[0].Result.Excerpt != "the agent's own" || views[0].After != 5*time.Second {
		t.Fatalf("toolu_1: %+v", views)
	}
	if views[1].Result == nil || views[1].Result.Excerpt != "the next turn's" {
		t.Fatalf("toolu_2: %+v", views[1])
	}
}
