package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/airlock-dev/airlock/policy"
)

type sampleFlags struct {
	policyFile, sampleFile, bodyFile, expect, at string
	actionTool, actionInput                      string
	sample                                       policy.Sample
}

func (a *app) policyTestCommand() *cobra.Command {
	var f sampleFlags
	c := &cobra.Command{
		Use:   "test",
		Short: "Decide a sample request against a policy, offline, and print the decision",
		Long: `test evaluates one request against a policy without a daemon: the caller and
the request are described by flags, by a JSON sample (--sample), or both (flags
win). A sample looks like:

  {"caller": {"uid": 1000, "user": "alice", "exe": "/usr/bin/node"},
   "request": {"method": "POST", "path": "/v1/messages"},
   "body": {"model": "claude-sonnet-4-5", "max_tokens": 1024},
   "embedded": "api_key", "findings": {"aws": 1}}

With --action-tool (or "action" in the sample) the decision is that of the
rules with on: action for a tool call the answer tells the caller to make:

  airlock policy test --cwd /home/alice/app --action-tool Bash \
    --action-input '{"command": "rm -rf build"}'

Rate limits and budgets start empty. With --expect, the exit status is 1 when
the decision differs (policy tests in CI).`,
		Example: `  airlock policy test --uid 1000 --exe /usr/bin/python3 --model claude-opus-4-1
  airlock policy test --policy new.yaml --sample req.json --expect deny
  airlock policy test --embedded admin_key --json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runPolicyTest(cmd.Flags(), &f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.policyFile, "policy", "", "policy file (default: policy.file of the configuration)")
	fl.StringVar(&f.sampleFile, "sample", "", "JSON sample request ('-' reads standard input)")
	fl.StringVar(&f.bodyFile, "body", "", "a request body (JSON) to parse as the gateway would")
	fl.StringVar(&f.expect, "expect", "", "exit 1 unless the action is this (allow | deny | require_approval)")
	fl.StringVar(&f.at, "time", "", "when the request happens, RFC 3339 (default: now)")
	fl.StringVar(&f.actionTool, "action-tool", "", "decide a tool call of the answer (on: action rules): the tool's name")
	fl.StringVar(&f.actionInput, "action-input", "{}", "the tool call's input, a JSON object")
	addSampleFlags(fl, &f.sample)
	return c
}

func addSampleFlags(fl *pflag.FlagSet, s *policy.Sample) {
	fl.IntVar(&s.Caller.PID, "pid", 0, "caller pid")
	fl.Uint32Var(&s.Caller.UID, "uid", 0, "caller uid")
	fl.StringVar(&s.Caller.User, "user", "", "caller user name")
	fl.StringVar(&s.Caller.Exe, "exe", "", "caller executable path")
	fl.StringVar(&s.Caller.Comm, "comm", "", "caller command name")
	fl.StringVar(&s.Caller.Cgroup, "cgroup", "", "caller cgroup path")
	fl.StringVar(&s.Caller.Unit, "unit", "", "caller systemd unit")
	fl.StringVar(&s.Caller.Cwd, "cwd", "", "caller working directory")
	fl.StringVar(&s.Caller.Container, "container", "", "caller container id")
	fl.StringVar(&s.Caller.ContainerName, "container-name", "", "caller container name")
	fl.StringVar(&s.Caller.ContainerImage, "container-image", "", "caller container image")
	fl.StringVar(&s.Caller.PodNamespace, "pod-namespace", "", "caller Kubernetes pod namespace")
	fl.StringVar(&s.Caller.PodName, "pod-name", "", "caller Kubernetes pod name")
	fl.StringVar(&s.Caller.PodUID, "pod-uid", "", "caller Kubernetes pod uid")
	fl.StringVar(&s.Request.Method, "method", "", "HTTP method (default POST)")
	fl.StringVar(&s.Request.Path, "path", "", "request path (default /v1/messages)")
	fl.StringVar(&s.Request.Model, "model", "", "model asked for")
	fl.Int64Var(&s.Request.MaxTokens, "max-tokens", 0, "max_tokens asked for")
	fl.BoolVar(&s.Request.Stream, "stream", false, "a streaming request")
	fl.StringSliceVar(&s.Request.Tools, "tool", nil, "tool names offered (repeatable)")
	fl.StringSliceVar(&s.Request.Betas, "beta", nil, "anthropic-beta flags (repeatable)")
	fl.StringVar(&s.Embedded, "embedded", "", "credential class the app embedded: api_key | oauth_token | admin_key | other | none")
	fl.StringToIntVar(&s.Findings, "finding", nil, "detector findings, e.g. --finding aws=1 (repeatable)")
}

func (a *app) runPolicyTest(fl *pflag.FlagSet, f *sampleFlags) error {
	path, err := a.policyPath(optional(f.policyFile))
	if err != nil {
		return err
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return fail(err, "check the path or pass --policy FILE", "reading policy")
	}
	sample, err := a.buildSample(fl, f)
	if err != nil {
		return err
	}
	d, err := policy.Evaluate(src, sample)
	if ps, ok := policyProblems(err); ok {
		return a.reportProblems(path, ps)
	}
	if err != nil {
		return fail(err, "see 'airlock policy test --help' for the sample's shape", "evaluating the sample")
	}
	if err := a.printDecision(d); err != nil {
		return err
	}
	if f.expect != "" && string(d.Action) != f.expect {
		return fail(nil, "change the policy or the expectation", "decision is %s (rule %s), expected %s", d.Action, d.Rule, f.expect)
	}
	return nil
}

func optional(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// buildSample merges the --sample file, --body and the flags (flags win).
func (a *app) buildSample(fl *pflag.FlagSet, f *sampleFlags) ([]byte, error) {
	s := policy.Sample{}
	s.Request.BodyParsed = true // as policy.ParseSample assumes
	if f.sampleFile != "" {
		data, err := a.readFileOrStdin(f.sampleFile)
		if err == nil {
			err = json.Unmarshal(data, &s)
		}
		if err != nil {
			return nil, fail(err, "give a JSON sample as shown in 'airlock policy test --help'", "reading sample %s", f.sampleFile)
		}
	}
	if f.bodyFile != "" {
		data, err := os.ReadFile(f.bodyFile)
		if err != nil {
			return nil, fail(err, "check the path", "reading body")
		}
		s.Body = data
	}
	if err := overlayFlags(fl, &s, &f.sample); err != nil {
		return nil, err
	}
	if err := setTime(&s, f.at); err != nil {
		return nil, err
	}
	if err := setAction(&s, f); err != nil {
		return nil, err
	}
	return json.Marshal(s)
}

// overlayFlags copies the sample flags the operator set onto s.
func overlayFlags(fl *pflag.FlagSet, s, from *policy.Sample) error {
	set := func(name string, apply func()) {
		if fl.Changed(name) {
			apply()
		}
	}
	c, r := &s.Caller, &s.Request
	set("pid", func() { c.PID = from.Caller.PID })
	set("uid", func() { c.UID = from.Caller.UID })
	set("user", func() { c.User = from.Caller.User })
	set("exe", func() { c.Exe = from.Caller.Exe })
	set("comm", func() { c.Comm = from.Caller.Comm })
	set("cgroup", func() { c.Cgroup = from.Caller.Cgroup })
	set("unit", func() { c.Unit = from.Caller.Unit })
	set("cwd", func() { c.Cwd = from.Caller.Cwd })
	set("container", func() { c.Container = from.Caller.Container })
	set("container-name", func() { c.ContainerName = from.Caller.ContainerName })
	set("container-image", func() { c.ContainerImage = from.Caller.ContainerImage })
	set("pod-namespace", func() { c.PodNamespace = from.Caller.PodNamespace })
	set("pod-name", func() { c.PodName = from.Caller.PodName })
	set("pod-uid", func() { c.PodUID = from.Caller.PodUID })
	set("method", func() { r.Method = from.Request.Method })
	set("path", func() { r.Path = from.Request.Path })
	set("beta", func() { r.Betas = from.Request.Betas })
	set("embedded", func() { s.Embedded = from.Embedded })
	set("finding", func() { s.Findings = from.Findings })
	return overlayBodyFlags(fl, s, from)
}

// overlayBodyFlags sets the fields the gateway reads from the body; with a
// body in the sample they would be silently overridden, so that is refused.
func overlayBodyFlags(fl *pflag.FlagSet, s, from *policy.Sample) error {
	names := []string{"model", "max-tokens", "stream", "tool"}
	changed := false
	for _, n := range names {
		changed = changed || fl.Changed(n)
	}
	if !changed {
		return nil
	}
	if len(s.Body) > 0 {
		return usage("put model, max_tokens, stream and tools in the body, or drop the body", "--model, --max-tokens, --stream and --tool cannot be combined with a request body")
	}
	r := &s.Request
	for _, n := range names {
		if fl.Changed(n) {
			map[string]func(){
				"model":      func() { r.Model = from.Request.Model },
				"max-tokens": func() { r.MaxTokens = from.Request.MaxTokens },
				"stream":     func() { r.Stream = from.Request.Stream },
				"tool":       func() { r.Tools = from.Request.Tools },
			}[n]()
		}
	}
	return nil
}

func setTime(s *policy.Sample, at string) error {
	if at == "" {
		if s.Time.IsZero() {
			s.Time = time.Now().UTC()
		}
		return nil
	}
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return usage("use RFC 3339, e.g. 2026-11-29T02:15:00Z", "invalid --time %q", at)
	}
	s.Time = t
	return nil
}

func (a *app) readFileOrStdin(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(a.io.In)
	}
	return os.ReadFile(path)
}

func (a *app) printDecision(d policy.Decision) error {
	if a.jsonOut {
		return writeJSON(a.io.Out, d)
	}
	pairs := []any{"action", d.Action, "rule", d.Rule, "reason", d.Reason,
		"credential", orDefault(d.Credential, "default"), "record", d.Record}
	if d.Denial != nil {
		status, typ := denialStatus(d.Denial.Kind)
		pairs = append(pairs, "client gets", fmt.Sprintf("%d %s", status, typ), "message", d.Denial.Message)
	}
	if d.RetryAfter > 0 {
		pairs = append(pairs, "retry after", d.RetryAfter)
	}
	return keyValues(a.io.Out, pairs...)
}

// denialStatus is the API error a denial of this kind answers with.
func denialStatus(k policy.DenyKind) (int, string) {
	switch k {
	case policy.DenyLimit:
		return 429, "rate_limit_error"
	case policy.DenyInvalid:
		return 400, "invalid_request_error"
	}
	return 403, "permission_error"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// setAction makes the sample a tool call when --action-tool is given.
func setAction(s *policy.Sample, f *sampleFlags) error {
	if f.actionTool == "" {
		return nil
	}
	s.Action = &policy.Act{Tool: f.actionTool, Type: "tool_use"}
	if err := json.Unmarshal([]byte(f.actionInput), &s.Action.Input); err != nil {
		return usage(`give the tool's input as a JSON object, e.g. '{"command": "ls"}'`, "--action-input: %v", err)
	}
	return nil
}
