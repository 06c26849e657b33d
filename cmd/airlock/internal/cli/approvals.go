package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/airlock-dev/airlock/admin"
	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/policy/approval"
)

func (a *app) approvalsCommand() *cobra.Command {
	return group("approvals", "List, show, approve and deny requests held for approval",
		`  airlock approvals list
  airlock approvals approve 7f3a9c --for 30m --reason "release window"
  airlock approvals deny 7f3a9c --reason "not during the freeze"`,
		a.approvalsListCommand(), a.approvalsShowCommand(), a.approvalsApproveCommand(), a.approvalsDenyCommand())
}

func (a *app) approvalsListCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "list",
		Short: "List the requests waiting for a decision",
		Long: `list shows every held request: who is asking (user, uid, executable, pid), the
rule that held it, what is asked, and how long until it times out (a timeout is
a denial).`,
		Example: `  airlock approvals list
  airlock approvals list --json
  airlock --central postgres://alice@db.internal/airlock approvals list --host web-7`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.usesCentral() {
				return a.centralApprovals(cmd.Context(), a.central.host)
			}
			c, sock := a.client()
			pending, err := c.Approvals(cmd.Context())
			if err != nil {
				return adminError(err, sock, "listing approvals", "")
			}
			return a.printApprovals(pending)
		},
	}
	c.Flags().StringVar(&a.central.host, "host", "", "with --central: one host's holds")
	return c
}

func (a *app) printApprovals(pending []approval.Pending) error {
	if a.jsonOut {
		if pending == nil {
			pending = []approval.Pending{}
		}
		return writeJSON(a.io.Out, pending)
	}
	if len(pending) == 0 {
		fmt.Fprintln(a.io.Out, "no requests are waiting for approval")
		return nil
	}
	t := newTable(a.io.Out, "ID", "WAITING", "EXPIRES IN", "CALLER", "RULE", "REQUEST", "SUMMARY")
	now := time.Now()
	for _, p := range pending {
		r := p.Request
		t.row(p.ID, since(now, p.Created), until(now, p.Expires), callerLabel(r.Caller), r.Rule,
			r.Method+" "+r.Path+" "+r.Model, truncate(oneLine(r.Summary), 50))
	}
	if err := t.flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(a.io.Out, "\ndecide with: airlock approvals approve ID [--for 30m] [--reason ...] | airlock approvals deny ID [--reason ...]")
	return err
}

func (a *app) approvalsShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "show ID",
		Short:   "Show one held request in full",
		Example: `  airlock approvals show 7f3a9c`,
		Args:    exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, sock := a.client()
			p, err := c.Approval(cmd.Context(), args[0])
			if err != nil {
				return adminError(err, sock, "approval "+args[0], idNotFound("pending approvals", "airlock approvals list")+" (decided or expired ones are in 'airlock audit list')")
			}
			if a.jsonOut {
				return writeJSON(a.io.Out, p)
			}
			return printPending(a, p)
		},
	}
}

func printPending(a *app, p approval.Pending) error {
	r, now := p.Request, time.Now()
	return keyValues(a.io.Out,
		"id", p.ID, "waiting", since(now, p.Created), "expires in", until(now, p.Expires),
		"caller", callerLabel(r.Caller), "cmdline", joinArgs(r.Caller.Cmdline), "unit", r.Caller.Unit,
		"container", r.Caller.Container, "cgroup", r.Caller.Cgroup,
		"rule", r.Rule, "reason", r.Reason, "request", r.Method+" "+r.Path, "model", r.Model,
		"digest", r.Digest, "summary", oneLine(r.Summary), "approve with", p.Command)
}

type decisionFlags struct {
	reason string
	window time.Duration
}

func (a *app) approvalsApproveCommand() *cobra.Command {
	var f decisionFlags
	c := &cobra.Command{
		Use:   "approve ID",
		Short: "Let one held request through, or open a just-in-time window with --for",
		Long: `approve lets the held request ID go to the API. With --for, it also opens a
just-in-time window: later requests from the same caller matching the same rule
go through without a hold until the window closes. The approver recorded in the
audit trail is you, as the admin socket sees you (not anything you type).`,
		Example: `  airlock approvals approve 7f3a9c
  airlock approvals approve 7f3a9c --for 30m --reason "incident 4411"`,
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error { return a.decide(cmd.Context(), args[0], true, f) },
	}
	c.Flags().StringVar(&f.reason, "reason", "", "why (recorded in the audit trail)")
	c.Flags().DurationVar(&f.window, "for", 0, "also approve the same caller and rule for this long (e.g. 30m)")
	return c
}

func (a *app) approvalsDenyCommand() *cobra.Command {
	var f decisionFlags
	c := &cobra.Command{
		Use:   "deny ID",
		Short: "Refuse a held request: the client gets a permission error with your reason",
		Example: `  airlock approvals deny 7f3a9c
  airlock approvals deny 7f3a9c --reason "use the staging key"`,
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error { return a.decide(cmd.Context(), args[0], false, f) },
	}
	c.Flags().StringVar(&f.reason, "reason", "", "why (told to the client and recorded)")
	return c
}

func (a *app) decide(ctx context.Context, id string, approve bool, f decisionFlags) error {
	if f.window < 0 {
		return usage("give a positive duration, e.g. --for 30m", "--for must not be negative")
	}
	if a.usesCentral() {
		return a.decideCentral(ctx, id, approve, f)
	}
	c, sock := a.client()
	var res admin.DecisionResult
	var err error
	if approve {
		res, err = c.Approve(ctx, id, f.reason, f.window)
	} else {
		res, err = c.Deny(ctx, id, f.reason)
	}
	if err != nil {
		return adminError(err, sock, "deciding "+id, idNotFound("pending approvals", "airlock approvals list")+"; it may have expired (a timeout is a denial)")
	}
	if a.jsonOut {
		return writeJSON(a.io.Out, res)
	}
	verb := map[bool]string{true: "approved", false: "denied"}[approve]
	msg := fmt.Sprintf("%s %s as %s", verb, id, orDefault(res.Approver, "you"))
	if approve && !res.Until.IsZero() {
		msg += "; the same caller and rule pass without a hold until " + cell(res.Until)
	}
	fmt.Fprintln(a.io.Out, msg)
	return nil
}

// callerLabel is a process in one short phrase: "alice(1000) /usr/bin/node pid 4242".
func callerLabel(p caller.Process) string {
	who := fmt.Sprintf("uid %d", p.UID)
	if p.User != "" {
		who = fmt.Sprintf("%s(%d)", p.User, p.UID)
	}
	exe := p.Exe
	if exe == "" {
		exe = p.Comm
	}
	if p.PID > 0 {
		return fmt.Sprintf("%s %s pid %d", who, exe, p.PID)
	}
	return who + " " + exe
}

func since(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return now.Sub(t).Round(time.Second).String()
}

func until(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if d := t.Sub(now); d > 0 {
		return d.Round(time.Second).String()
	}
	return "expired"
}

// joinArgs is a command line for a terminal: credentials masked, one line, short.
func joinArgs(args []string) string {
	return truncate(oneLine(redactArgs(args)), 160)
}
