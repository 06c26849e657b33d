package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/internal/visible"
)

func writeCompactJSON(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}

// recordPairs are the key/value lines of one record.
func recordPairs(r audit.Record) []any {
	return []any{
		"id", r.ID, "time", r.Time, "request id", r.RequestID, "upstream request id", r.UpstreamID,
		"session", r.SessionID, "caller", callerLabel(r.Caller), "cmdline", joinArgs(r.Caller.Cmdline),
		"unit", r.Caller.Unit, "container", containerLabel(r.Caller), "pod", podLabel(r.Caller), "cgroup", r.Caller.Cgroup,
		"netns", netnsLabel(r.Caller.Netns),
		"destination", r.Dst, "sni", r.SNI, "request", r.Method + " " + r.Path, "model", r.Model, "stream", r.Stream,
		"decision", r.Decision, "rule", r.Rule, "reason", r.Reason, "credential", r.Credential,
		"approval", r.ApprovalID, "approver", r.Approver, "approval reason", r.ApprovalReason, "masked", maskedSummary(r.Masked, r.MaskIncomplete),
		"embedded credential", strings.TrimSpace(r.EmbeddedClass + " " + r.EmbeddedFP), "status", r.Status,
		"time to first byte", r.TTFB, "duration", r.Duration,
		"bytes in/out", fmt.Sprintf("%d/%d", r.BytesIn, r.BytesOut),
		"tokens in/out", fmt.Sprintf("%d/%d", r.InputTokens, r.OutputTokens),
		"cache read/write", fmt.Sprintf("%d/%d", r.CacheReadTokens, r.CacheWriteTokens),
		"hash", r.Hash}
}

// maskedSummary is "aws=2, email=1" (sorted), flagged when masking could not
// complete on a stream.
func maskedSummary(m map[string]int, incomplete bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	s := strings.Join(parts, ", ")
	if s == "" {
		s = "nothing"
	}
	if incomplete {
		s += " (INCOMPLETE: a held-back match overflowed)"
	}
	return s
}

// printEntry prints a record, a summary of its recording and, with body,
// the recorded request body and response.
func printEntry(w io.Writer, e audit.Entry, body bool) error {
	rc := e.Recording
	summary := "none (metadata only)"
	if rc != nil {
		summary = fmt.Sprintf("request body %d bytes, %s in %d event(s)",
			len(rc.RequestBody), strings.Join(strings.Fields("response "+statusText(rc.Status)+" "+rc.ContentType), " "), len(rc.Events))
	}
	if err := keyValues(w, append(recordPairs(e.Record), "recording", summary)...); err != nil || !body || rc == nil {
		return err
	}
	fmt.Fprintf(w, "\n--- request body (masked)\n%s\n--- response\n", visible.Text(string(rc.RequestBody)))
	for _, e := range rc.Events {
		if _, err := io.WriteString(w, visible.Text(string(e.Data))); err != nil {
			return err
		}
	}
	return nil
}

func (a *app) auditVerifyCommand() *cobra.Command {
	var db, host string
	c := &cobra.Command{
		Use:   "verify",
		Short: "Check the hash chain: pinpoint edited, inserted or deleted records",
		Long: `verify walks the audit trail's hash chain from the last retention checkpoint to
the anchored head and reports every record that was edited, inserted or deleted
(including deletions at the end). With --db it opens the database file itself,
so it works while airlockd is down (after a crash, or on a copy). Exit status 1
when the trail was tampered with.`,
		Example: `  airlock audit verify
  airlock audit verify --json
  sudo airlock audit verify --db /var/lib/airlock/audit.db
  airlock --central postgres://auditor@db.internal/airlock audit verify   # every host's chain, as stored centrally`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if db != "" {
				return a.verifyFile(cmd.Context(), db)
			}
			if a.usesCentral() {
				return a.verifyCentral(cmd.Context(), host)
			}
			c, sock := a.client()
			rep, err := c.Verify(cmd.Context())
			if err != nil {
				return adminError(err, sock, "verifying the audit trail", "")
			}
			return a.printVerify(rep)
		},
	}
	c.Flags().StringVar(&db, "db", "", "verify this audit database file directly, without the daemon")
	c.Flags().StringVar(&host, "host", "", "with --central: verify only this host's chain")
	return c
}

// verifyFile opens the store read for verification; a missing file is an
// error rather than a new empty store.
func (a *app) verifyFile(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fail(err, "give the audit database path (audit.path, default <state_dir>/audit.db)", "cannot open the audit database")
	}
	st, err := audit.Open(ctx, audit.StoreConfig{Path: path})
	if err != nil {
		return fail(err, "run it as root; check the file is an Airlock audit database", "opening %s", path)
	}
	defer st.Close()
	rep, err := st.Verify(ctx)
	if err != nil {
		return fail(err, "check the file is an Airlock audit database", "verifying %s", path)
	}
	return a.printVerify(rep)
}

func (a *app) printVerify(rep audit.VerifyReport) error {
	if a.jsonOut {
		if err := writeJSON(a.io.Out, rep); err != nil {
			return err
		}
	} else if rep.OK {
		fmt.Fprintf(a.io.Out, "audit trail intact: %d record(s), head #%d %s\n", rep.Records, rep.HeadSeq, short(rep.HeadHash))
	} else {
		t := newTable(a.io.Out, "PROBLEM", "RECORD", "DETAIL")
		for _, p := range rep.Problems {
			t.row(p.Kind, seqRange(p), p.Detail)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if !rep.OK {
		return fail(nil, "treat the trail as tampered with: preserve the database and the system logs for investigation",
			"audit trail verification failed: %d problem(s)", len(rep.Problems))
	}
	return nil
}

func seqRange(p audit.Problem) string {
	if p.ToSeq > p.Seq {
		return fmt.Sprintf("#%d-#%d", p.Seq, p.ToSeq)
	}
	return fmt.Sprintf("#%d", p.Seq)
}

func statusText(status int) string {
	if status == 0 {
		return ""
	}
	return fmt.Sprint(status)
}

// containerLabel is "name (image) id", or the id alone when the runtime
// could not be asked.
func containerLabel(p caller.Process) string {
	if p.ContainerName == "" {
		return p.Container
	}
	return fmt.Sprintf("%s (%s) %s", p.ContainerName, p.ContainerImage, p.Container)
}

func podLabel(p caller.Process) string {
	if p.PodName == "" {
		return p.PodUID
	}
	return fmt.Sprintf("%s/%s %s", p.PodNamespace, p.PodName, p.PodUID)
}

func netnsLabel(cookie uint64) string {
	if cookie == 0 {
		return ""
	}
	return fmt.Sprintf("%d", cookie)
}
