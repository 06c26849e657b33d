package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/airlock-dev/airlock/audit"
)

type auditFlags struct {
	since, until, caller, model, decision, session, host, format, out string
	limit                                                             int
}

func (a *app) auditCommand() *cobra.Command {
	return group("audit", "List, show, export and verify the audit trail",
		`  airlock audit list --since 2h --decision deny
  airlock audit show 4211
  airlock audit export --since 7d --format jsonl > audit.jsonl
  airlock audit verify`,
		a.auditListCommand(), a.auditShowCommand(), a.auditExportCommand(), a.auditVerifyCommand(), a.auditPruneCommand())
}

func addFilterFlags(fl *pflag.FlagSet, f *auditFlags, limit int) {
	fl.StringVar(&f.since, "since", "", "from this time: a duration ago (30m, 2h, 7d) or a date/time (UTC)")
	fl.StringVar(&f.until, "until", "", "up to this time (same forms as --since)")
	fl.StringVar(&f.caller, "caller", "", "a uid, user name, executable path or executable name")
	fl.StringVar(&f.model, "model", "", "model name")
	fl.StringVar(&f.decision, "decision", "", "allow | deny | approval_denied | approval_timeout | error")
	fl.StringVar(&f.session, "session", "", "session id")
	fl.StringVar(&f.host, "host", "", "with --central: one host's records")
	fl.IntVar(&f.limit, "limit", limit, "newest N records (0: all)")
}

func (f auditFlags) filter() (audit.Filter, error) {
	now := time.Now()
	since, err := parseWhen(f.since, now)
	if err != nil {
		return audit.Filter{}, err
	}
	until, err := parseWhen(f.until, now)
	if err != nil {
		return audit.Filter{}, err
	}
	if f.limit < 0 {
		return audit.Filter{}, usage("give 0 (all) or a positive number", "--limit must not be negative")
	}
	return audit.Filter{Since: since, Until: until, Caller: f.caller, Model: f.model,
		Decision: f.decision, Session: f.session, Host: f.host, Limit: f.limit}, nil
}

func (a *app) auditListCommand() *cobra.Command {
	var f auditFlags
	c := &cobra.Command{
		Use:   "list",
		Short: "List audit records: who called, what, the decision, status, tokens",
		Long: `list prints one line per intercepted request, oldest first: time, caller,
model, request, the decision and the rule that made it, the upstream status,
tokens and duration. Filters combine.`,
		Example: `  airlock audit list
  airlock audit list --since 2026-11-29T02:00:00Z --until 2026-11-29T03:00:00Z
  airlock audit list --caller alice --model claude-opus-4-1 --decision deny
  airlock audit list --since 1h --format jsonl`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAuditList(cmd.Context(), f) },
	}
	addFilterFlags(c.Flags(), &f, 100)
	c.Flags().StringVar(&f.format, "format", "table", "table | json | jsonl")
	return c
}

func (a *app) runAuditList(ctx context.Context, f auditFlags) error {
	filter, err := f.filter()
	if err != nil {
		return err
	}
	format, err := a.format(f.format, "table")
	if err != nil {
		return err
	}
	recs, err := a.auditRecords(ctx, filter, "listing audit records")
	if err != nil {
		return err
	}
	if format == "table" && filter.Limit > 0 && len(recs) == filter.Limit {
		defer fmt.Fprintf(a.io.Out, "(the newest %d records; --limit 0 shows all)\n", filter.Limit)
	}
	return a.printRecords(format, recs)
}

// format resolves --format against --json.
func (a *app) format(format, def string) (string, error) {
	if a.jsonOut && format == def {
		format = "json"
	}
	switch format {
	case "table", "json", "jsonl":
		return format, nil
	}
	return "", usage("use --format table, json or jsonl", "unknown format %q", format)
}

func (a *app) printRecords(format string, recs []audit.Record) error {
	switch format {
	case "json":
		if recs == nil {
			recs = []audit.Record{}
		}
		return writeJSON(a.io.Out, recs)
	case "jsonl":
		return writeJSONL(a.io.Out, recs)
	}
	if len(recs) == 0 {
		fmt.Fprintln(a.io.Out, "no audit records match")
		return nil
	}
	t := newTable(a.io.Out, "ID", "TIME", "CALLER", "MODEL", "REQUEST", "DECISION", "RULE", "STATUS", "TOKENS IN/OUT", "DURATION")
	for _, r := range recs {
		t.row(r.ID, r.Time, callerLabel(r.Caller), r.Model, r.Method+" "+r.Path, r.Decision, r.Rule,
			r.Status, fmt.Sprintf("%d/%d", r.InputTokens, r.OutputTokens), r.Duration)
	}
	return t.flush()
}

func writeJSONL(w io.Writer, recs []audit.Record) error {
	for i := range recs {
		if err := writeCompactJSON(w, &recs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (a *app) auditShowCommand() *cobra.Command {
	var body bool
	c := &cobra.Command{
		Use:   "show ID",
		Short: "Show one audit record in full, with its recording's summary",
		Example: `  airlock audit show 4211
  airlock audit show 4211 --body     # the masked request body and the response as recorded
  airlock audit show 4211 --json`,
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error { return a.runAuditShow(cmd.Context(), args[0], body) },
	}
	c.Flags().BoolVar(&body, "body", false, "also print the recorded (masked) request body and response")
	c.Flags().StringVar(&a.central.host, "host", "", "with --central: the host whose record ID is (ids are per host)")
	return c
}

func (a *app) runAuditShow(ctx context.Context, arg string, body bool) error {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return usage("give the numeric id that 'airlock audit list' shows", "invalid record id %q", arg)
	}
	if a.usesCentral() {
		return a.showCentral(ctx, id, body)
	}
	c, sock := a.client()
	e, err := c.AuditRecord(ctx, id)
	if err != nil {
		return adminError(err, sock, "audit record "+arg, idNotFound("records", "airlock audit list"))
	}
	if a.jsonOut {
		return writeJSON(a.io.Out, e)
	}
	return printEntry(a.io.Out, e, body)
}

func (a *app) auditExportCommand() *cobra.Command {
	var f auditFlags
	c := &cobra.Command{
		Use:   "export",
		Short: "Export audit records as JSON lines (for a SIEM or an archive)",
		Example: `  airlock audit export --since 7d > audit.jsonl
  airlock audit export --caller ci --format jsonl --out /srv/archive/airlock-ci.jsonl`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAuditExport(cmd.Context(), f) },
	}
	addFilterFlags(c.Flags(), &f, 0)
	c.Flags().StringVar(&f.format, "format", "jsonl", "jsonl | json")
	c.Flags().StringVar(&f.out, "out", "", "write to this file instead of standard output")
	return c
}

func (a *app) runAuditExport(ctx context.Context, f auditFlags) error {
	filter, err := f.filter()
	if err != nil {
		return err
	}
	if f.format != "jsonl" && f.format != "json" {
		return usage("use --format jsonl or json", "unknown export format %q", f.format)
	}
	recs, err := a.auditRecords(ctx, filter, "exporting audit records")
	if err != nil {
		return err
	}
	w, closeOut, err := a.output(f.out)
	if err != nil {
		return err
	}
	if f.format == "json" {
		err = writeJSON(w, recs)
	} else {
		err = writeJSONL(w, recs)
	}
	return closeOut(err)
}

// output opens --out (written atomically enough: created 0600, closed on
// return) or standard output.
func (a *app) output(path string) (io.Writer, func(error) error, error) {
	if path == "" {
		return a.io.Out, func(err error) error { return err }, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, fail(err, "choose a writable path", "opening %s", path)
	}
	return f, func(err error) error {
		if cerr := f.Close(); err == nil && cerr != nil {
			return fail(cerr, "check the disk", "writing %s", path)
		}
		return err
	}, nil
}
