package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airlock-dev/airlock/policy"
)

func (a *app) policyCommand() *cobra.Command {
	return group("policy", "Check a policy file and try requests against it, offline",
		`  airlock policy check /etc/airlock/policy.yaml
  airlock policy test --uid 1000 --exe /usr/bin/node --model claude-opus-4-1`,
		a.policyCheckCommand(), a.policyTestCommand())
}

func (a *app) policyCheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check [FILE]",
		Short: "Validate a policy file: every problem with its line, column and expression",
		Long: `check compiles a policy exactly as airlockd would (YAML structure, rule fields,
CEL conditions) and prints every problem as FILE:LINE:COLUMN: message. Without
FILE it checks the policy file named in the daemon's configuration. Exit status
1 when the policy has problems.`,
		Example: `  airlock policy check /etc/airlock/policy.yaml
  airlock policy check new-policy.yaml --json`,
		Args: maxArgs(1, "FILE"),
		RunE: func(_ *cobra.Command, args []string) error {
			path, err := a.policyPath(args)
			if err != nil {
				return err
			}
			return a.reportProblems(path, policy.CheckFile(path))
		},
	}
}

// policyPath is the FILE argument, else the configured policy file.
func (a *app) policyPath(args []string) (string, error) {
	if len(args) == 1 {
		return args[0], nil
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return "", usage("name the policy file, e.g. 'airlock policy check /etc/airlock/policy.yaml' or --policy FILE",
			"no policy file given, and the configuration (%s) does not load to say which", a.configPath)
	}
	if cfg.Policy.File == "" {
		return "", usage("name the file: 'airlock policy check FILE'",
			"the configuration sets no policy file (policy.file is empty: the built-in default applies)")
	}
	return cfg.Policy.File, nil
}

// positioned is a problem with the source line it points into.
type positioned struct {
	policy.Problem
	Source string `json:"source,omitempty"`
}

// reportProblems prints a check's verdict, each problem with its line and a
// caret under the column; problems make it exit 1.
func (a *app) reportProblems(path string, problems []policy.Problem) error {
	src, _ := os.ReadFile(path)
	lines := strings.Split(string(src), "\n")
	out := make([]positioned, len(problems))
	for i, p := range problems {
		out[i].Problem = p
		if p.Line >= 1 && p.Line <= len(lines) {
			out[i].Source = strings.TrimRight(lines[p.Line-1], "\r")
		}
	}
	if a.jsonOut {
		err := writeJSON(a.io.Out, map[string]any{"file": path, "ok": len(out) == 0, "problems": out})
		if err == nil && len(out) > 0 {
			return errSilentFailure
		}
		return err
	}
	if len(out) == 0 {
		fmt.Fprintf(a.io.Out, "%s: ok\n", path)
		return nil
	}
	for _, p := range out {
		printProblem(a.io.Out, path, p)
	}
	return fail(nil, "correct the lines above and check again", "%s: %d problem(s)", path, len(out))
}

func printProblem(w io.Writer, path string, p positioned) {
	fmt.Fprintf(w, "%s:%d:%d: %s\n", path, p.Line, p.Column, oneLine(p.Message))
	if p.Source == "" {
		return
	}
	fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(p.Source, "\t", " "))
	if p.Column >= 1 && p.Column <= len(p.Source)+1 {
		fmt.Fprintf(w, "    %s^\n", strings.Repeat(" ", p.Column-1))
	}
}

// policyProblems extracts the positioned problems from a compile error.
func policyProblems(err error) ([]policy.Problem, bool) {
	var ps policy.Problems
	if errors.As(err, &ps) {
		return ps, true
	}
	return nil, false
}
