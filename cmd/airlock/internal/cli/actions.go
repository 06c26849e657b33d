package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/caller"
)

// ActionView is one tool call with who was told to make it and what came of it.
type ActionView struct {
	audit.Action
	Time      time.Time         `json:"time"`
	RecordID  int64             `json:"record_id"`
	Host      string            `json:"host,omitempty"`
	SessionID string            `json:"session_id,omitempty"`
	Caller    string            `json:"caller"`
	Result    *audit.ToolResult `json:"result,omitempty"`
	ResultAt  time.Time         `json:"result_time,omitzero"`
	After     time.Duration     `json:"after_ns,omitempty"` // from the instruction to the result
	agent     caller.Process    // who was told: only it may report the result
}

func (a *app) actionsCommand() *cobra.Command {
	return group("actions", "List and show the tool calls agents were told to make, and their results",
		`  airlock actions list --since 1h --tool Bash
  airlock actions show toolu_01AbC`,
		a.actionsListCommand(), a.actionsShowCommand())
}

type actionFlags struct {
	since, session, tool string
	limit                int
}

func (a *app) actionsListCommand() *cobra.Command {
	var f actionFlags
	c := &cobra.Command{
		Use:   "list",
		Short: "List tool calls: when, who, which tool, its (masked) input, the decision and the result",
		Long: `list prints the tool calls (tool_use, server_tool_use, mcp_tool_use) that answers
told agents to make, oldest first, each with the result the agent reported in its
next request (ok or error) and how long after the instruction it came.`,
		Example: `  airlock actions list
  airlock actions list --tool Bash --since 2h
  airlock actions list --session 0b6c7d0e-claude-code --json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runActionsList(cmd.Context(), f) },
	}
	c.Flags().StringVar(&f.since, "since", "", "from this time: a duration ago (30m, 2h, 7d) or a date/time (UTC)")
	c.Flags().StringVar(&f.session, "session", "", "one session's actions")
	c.Flags().StringVar(&f.tool, "tool", "", "one tool's actions (e.g. Bash)")
	c.Flags().IntVar(&f.limit, "limit", 100, "newest N actions (0: all)")
	return c
}

func (a *app) runActionsList(ctx context.Context, f actionFlags) error {
	since, err := parseWhen(f.since, time.Now())
	if err != nil {
		return err
	}
	views, err := a.actionViews(ctx, audit.Filter{Since: since, Session: f.session})
	if err != nil {
		return err
	}
	views = filterActions(views, f.tool, f.limit)
	if a.jsonOut {
		return writeJSON(a.io.Out, views)
	}
	if len(views) == 0 {
		fmt.Fprintln(a.io.Out, "no actions match")
		return nil
	}
	t := newTable(a.io.Out, "TIME", "ID", "CALLER", "TOOL", "INPUT", "DECISION", "RESULT", "AFTER")
	for _, v := range views {
		t.row(v.Time, v.ID, v.Caller, v.Tool, truncate(oneLine(string(v.Input)), 60), v.Decision, resultWord(v.Result), v.After)
	}
	return t.flush()
}

func (a *app) actionsShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "show ID",
		Short:   "Show one tool call in full: its input, the request it came in, the result",
		Example: `  airlock actions show toolu_01AbC --json`,
		Args:    exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			views, err := a.actionViews(cmd.Context(), audit.Filter{})
			if err != nil {
				return err
			}
			for _, v := range views {
				if v.ID == args[0] {
					return a.printAction(v)
				}
			}
			return fail(nil, "list them with 'airlock actions list'", "no action has the id %q", args[0])
		},
	}
}

func (a *app) printAction(v ActionView) error {
	if a.jsonOut {
		return writeJSON(a.io.Out, v)
	}
	t := newTable(a.io.Out, "FIELD", "VALUE")
	t.row("id", v.ID)
	t.row("tool", v.Tool+" ("+v.Type+")")
	t.row("time", v.Time)
	t.row("caller", v.Caller)
	t.row("session", v.SessionID)
	t.row("audit record", v.RecordID)
	t.row("decision", v.Decision)
	if v.Rule != "" || v.Reason != "" {
		t.row("rule", v.Rule+" ("+v.Reason+")")
	}
	if v.ApprovalID != "" {
		t.row("approval", v.ApprovalID+" by "+v.Approver)
	}
	t.row("input", string(v.Input))
	t.row("result", resultWord(v.Result))
	if v.Result != nil {
		t.row("result excerpt", oneLine(v.Result.Excerpt))
		t.row("result after", v.After)
	}
	return t.flush()
}

// actionViews flattens the actions of the records f selects and links each
// to the result a later record reports.
func (a *app) actionViews(ctx context.Context, f audit.Filter) ([]ActionView, error) {
	recs, err := a.auditRecords(ctx, f, "reading actions from the audit trail")
	if err != nil {
		return nil, err
	}
	return linkActions(recs), nil
}

// linkActions lists recs' actions, oldest first, each with the first later
// result for its id from the same agent: the same host, user and executable,
// as the kernel named them. A tool_use id is no secret to a process that can
// read the agent's files, and another program's claim to have run the call
// must not stand in the audit for what the agent reported.
func linkActions(recs []audit.Record) []ActionView {
	var views []ActionView
	type key struct{ host, id string }
	byID := map[key]int{}
	for _, r := range recs {
		for _, res := range r.ToolResults {
			i, ok := byID[key{r.Host, res.ToolUseID}]
			if ok && views[i].Result == nil && sameAgent(views[i].agent, r.Caller) {
				views[i].Result, views[i].ResultAt, views[i].After = &res, r.Time, r.Time.Sub(views[i].Time)
			}
		}
		for _, act := range r.Actions {
			byID[key{r.Host, act.ID}] = len(views)
			views = append(views, ActionView{Action: act, Time: r.Time, RecordID: r.ID, Host: r.Host,
				SessionID: r.SessionID, Caller: callerLabel(r.Caller), agent: r.Caller})
		}
	}
	return views
}

// sameAgent: the process that reports a result runs the program that was
// told to act, as the same user (an agent may be a new process each turn).
func sameAgent(told, reports caller.Process) bool {
	if told.UID != reports.UID {
		return false
	}
	if told.ExeIno != 0 && reports.ExeIno != 0 { // the file the kernel saw at connect()
		return told.ExeIno == reports.ExeIno && told.ExeDev == reports.ExeDev
	}
	return told.Exe == reports.Exe && !told.ExeChanged && !reports.ExeChanged
}

func filterActions(views []ActionView, tool string, limit int) []ActionView {
	out := views[:0:0]
	for _, v := range views {
		if tool == "" || v.Tool == tool {
			out = append(out, v)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	if out == nil {
		out = []ActionView{}
	}
	return out
}

func resultWord(r *audit.ToolResult) string {
	switch {
	case r == nil:
		return "-"
	case r.IsError:
		return "error"
	}
	return "ok"
}
