package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

// statusOrder puts the daemon's status sections in an operator's reading order;
// sections the daemon adds later follow in name order.
var statusOrder = []string{"version", "pid", "uptime", "started", "fail_mode", "capture", "attached", "cgroup",
	"targets", "counters", "listener", "namespaces", "ca", "credentials", "policy", "masking", "audit", "approvals"}

func (a *app) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the daemon: where capture is attached, targets, counters, CA, credentials, pending approvals",
		Long: `status asks the running airlockd over its admin socket where capture is attached,
which targets are redirected, the kernel's counters, the CA's fingerprint and
expiry, the health of each managed credential source (never its value), and the
pending approvals. Exit status 1 when the daemon cannot be reached.`,
		Example: `  sudo airlock status
  airlock status --json | jq .capture
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
	if st == nil {
		st = map[string]any{}
	}
	if _, ok := st["approvals"]; !ok {
		if pending, err := c.Approvals(ctx); err == nil {
			st["pending_approvals"] = len(pending)
		}
	}
	if a.jsonOut {
		err = writeJSON(a.io.Out, st)
	} else {
		fmt.Fprintf(a.io.Out, "airlockd at %s\n", sock)
		err = printTree(a.io.Out, st)
	}
	if problems := statusProblems(st); err == nil && len(problems) > 0 {
		return fail(nil, "see 'airlock doctor' and 'journalctl -u airlockd'", "airlockd is running but unhealthy: %s", strings.Join(problems, "; "))
	}
	return err
}

// statusProblems picks out what the daemon reports as broken: a managed
// credential it cannot read, an audit store it cannot write.
func statusProblems(st map[string]any) []string {
	var out []string
	creds, _ := st["credentials"].([]any)
	for _, c := range creds {
		if m, ok := c.(map[string]any); ok && m["ok"] == false {
			out = append(out, fmt.Sprintf("credential %v: %v", m["name"], m["error"]))
		}
	}
	if au, ok := st["audit"].(map[string]any); ok {
		if ready, _ := au["ready"].(string); ready != "" {
			out = append(out, "audit store: "+ready)
		}
	}
	return out
}

// printTree prints a decoded JSON document as aligned "key: value" lines,
// nested objects indented under their key.
func printTree(w io.Writer, doc map[string]any) error {
	var pairs []any
	for _, k := range orderedKeys(doc) {
		pairs = flatten(pairs, k, doc[k])
	}
	return keyValues(w, pairs...)
}

func orderedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.SliceStable(keys, func(i, j int) bool {
		ri, rj := rank(keys[i]), rank(keys[j])
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	return keys
}

func rank(k string) int {
	if i := slices.Index(statusOrder, k); i >= 0 {
		return i
	}
	return len(statusOrder)
}

// flatten appends key/value pairs for v: objects as dotted keys, lists of
// scalars joined, lists of objects one line per element.
func flatten(pairs []any, key string, v any) []any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			return append(pairs, key, "-")
		}
		for _, k := range orderedKeys(x) {
			pairs = flatten(pairs, key+"."+k, x[k])
		}
		return pairs
	case []any:
		if !hasObjects(x) {
			return append(pairs, key, joinScalars(x))
		}
		for i, e := range x {
			pairs = flatten(pairs, fmt.Sprintf("%s[%d]", key, i), e)
		}
		return pairs
	case float64:
		return append(pairs, key, formatNumber(x))
	case nil:
		return append(pairs, key, "-")
	}
	return append(pairs, key, v)
}

func hasObjects(list []any) bool {
	for _, e := range list {
		if _, ok := e.(map[string]any); ok {
			return true
		}
	}
	return false
}

func joinScalars(list []any) string {
	parts := make([]string, len(list))
	for i, e := range list {
		if f, ok := e.(float64); ok {
			parts[i] = formatNumber(f)
		} else {
			parts[i] = fmt.Sprint(e)
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// formatNumber prints JSON numbers without exponent noise.
func formatNumber(f float64) string {
	if f == float64(int64(f)) {
		return fmt.Sprintf("%d", int64(f))
	}
	return fmt.Sprintf("%g", f)
}
