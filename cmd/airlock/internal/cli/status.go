package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airlock-dev/airlock/admin"
)

func (a *app) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the daemon: where capture is attached, targets, counters, CA, credentials, pending approvals",
		Long: `status asks the running airlockd over its admin socket where capture is attached,
which targets are redirected, the kernel's counters, the CA's fingerprint and
expiry, the health of each managed credential source (never its value), and the
pending approvals. --json prints the same fields, under the same names, as the
admin API's /v1/status. Exit status 1 when the daemon cannot be reached or
reports a credential or the audit store as broken.`,
		Example: `  sudo airlock status
  airlock status --json | jq .capture
  airlock status --json | jq '.credentials[] | select(.ok | not)'
  airlock status --socket /run/airlock-demo/admin.sock`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runStatus(cmd.Context()) },
	}
}

func (a *app) runStatus(ctx context.Context) error {
	c, sock := a.client()
	st, err := c.Status(ctx)
	if err != nil {
		return adminError(err, sock, "reading the daemon's status", "upgrade airlock and airlockd together")
	}
	if a.jsonOut {
		err = writeJSON(a.io.Out, st)
	} else {
		fmt.Fprintf(a.io.Out, "airlockd at %s\n", sock)
		err = printStatus(a.io.Out, st)
	}
	if problems := st.Problems(); err == nil && len(problems) > 0 {
		return fail(nil, "see 'airlock doctor' and 'journalctl -u airlockd'", "airlockd is running but unhealthy: %s", strings.Join(problems, "; "))
	}
	return err
}

// printStatus prints the status as aligned "key: value" lines; each key is
// the JSON path of the value in --json, so what an operator reads here is
// what a script selects with jq.
func printStatus(w io.Writer, st admin.Status) error {
	c := st.Capture
	pairs := []any{"version", st.Version, "pid", st.PID, "uptime", st.Uptime, "started", st.Started,
		"capture.enabled", c.Enabled, "capture.fail_mode", c.FailMode, "capture.cgroup", c.Cgroup,
		"capture.pin_dir", c.PinDir, "capture.targets", list(c.Targets), "capture.api_hosts", list(c.APIHosts),
		"capture.listener", list(c.Listener), "capture.namespaces.served", c.Namespaces.Served,
		"capture.namespaces.first_contact", c.Namespaces.FirstContact, "capture.namespaces.refused", c.Namespaces.Refused,
		"capture.namespaces.held", c.Namespaces.Held, "capture.namespaces.over_limit", c.Namespaces.OverLimit}
	pairs = append(pairs, counters(c.Counters)...)
	pairs = append(pairs, "ca.fingerprint", st.CA.Fingerprint, "ca.not_after", st.CA.NotAfter)
	for i, cr := range st.Credentials {
		k := "credentials[" + strconv.Itoa(i) + "]."
		pairs = append(pairs, k+"name", cr.Name, k+"kind", cr.Kind, k+"source", cr.Source, k+"ok", cr.OK)
		if cr.Error != "" {
			pairs = append(pairs, k+"error", cr.Error)
		}
	}
	pairs = append(pairs, "policy.file", orDefault(st.Policy.File, "(built-in: allow with the default credential)"),
		"audit.path", st.Audit.Path, "audit.ok", st.Audit.OK)
	if st.Audit.Error != "" {
		pairs = append(pairs, "audit.error", st.Audit.Error)
	}
	pairs = append(pairs, "approvals.pending", st.Approvals.Pending, "approvals.timeout", st.Approvals.Timeout)
	return keyValues(w, pairs...)
}

func counters(m map[string]uint64) []any {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []any
	for _, k := range names {
		out = append(out, "capture.counters."+k, m[k])
	}
	return out
}

func list(s []string) string { return strings.Join(s, ", ") }
