// Package cli is the airlock command tree: every operator command, its flags,
// its output (aligned tables on a terminal, --json for scripts) and its exit
// codes (0 ok, 1 failure, 2 usage).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Streams are the standard streams a run of the tool reads and writes.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// app holds the global flags and what every command shares.
type app struct {
	io         Streams
	configPath string
	socket     string
	jsonOut    bool
	central    centralFlags
}

// Run executes the airlock command line args and returns the exit code.
func Run(ctx context.Context, args []string, s Streams) int {
	a := &app{io: s}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, errSilentFailure) {
		return ExitFailure
	}
	fmt.Fprintln(s.Err, render(err))
	return exitCode(err)
}

// errSilentFailure ends a command with exit 1 when it has already printed why
// (doctor's table, verify's report).
var errSilentFailure = errors.New("failed (reported above)")

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "airlock",
		Short: "Operate Airlock, the host interceptor for Claude API traffic",
		Long: `airlock is the operator's tool for Airlock: it installs and removes the daemon
(airlockd), shows its status, diagnoses the host, manages the CA and its trust,
checks policies, decides held requests, and reads the audit trail and recorded
sessions. Commands that talk to the daemon use its admin socket (root or the
configured group only).`,
		Example: `  airlock install
  airlock status
  airlock doctor
  airlock approvals list
  airlock audit list --since 1h --decision deny`,
		Args:          unknownSubcommand,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usage("see '"+cmd.CommandPath()+" --help'", "%s", err.Error())
	})
	f := root.PersistentFlags()
	f.StringVar(&a.configPath, "config", defaultConfigPath, "daemon configuration file")
	f.StringVar(&a.socket, "socket", "", "admin socket of the daemon (default: admin.socket from the config, else "+defaultSocket+")")
	f.BoolVar(&a.jsonOut, "json", false, "print JSON for scripts instead of tables")
	f.StringVar(&a.central.url, "central", centralURLFromEnv(), "a fleet's central PostgreSQL (postgres://…; env AIRLOCK_CENTRAL_URL): audit, approvals read and decide there")
	f.StringVar(&a.central.passwordFile, "central-password-file", "", "file holding the central database password")
	f.StringVar(&a.central.as, "as", "", "with --central: a reviewer name recorded with decisions, beside the database role that wrote them (default: the role alone)")
	root.AddCommand(a.commands()...)
	return root
}

func (a *app) commands() []*cobra.Command {
	return []*cobra.Command{
		a.installCommand(), a.uninstallCommand(), a.statusCommand(), a.doctorCommand(),
		a.caCommand(), a.trustCommand(), a.policyCommand(),
		a.approvalsCommand(), a.auditCommand(), a.sessionsCommand(), a.actionsCommand(), a.maskingCommand(),
		a.consoleCommand(),
	}
}

// group is a command that only holds subcommands.
func group(use, short, example string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use: use, Short: short, Example: example,
		Args: unknownSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	c.AddCommand(subs...)
	return c
}

func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	fix := "see '" + cmd.CommandPath() + " --help'"
	cmd.SuggestionsMinimumDistance = 2
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		fix = "did you mean '" + cmd.CommandPath() + " " + s[0] + "'?"
	}
	return usage(fix, "unknown command %q for %q", args[0], cmd.CommandPath())
}

// exactArgs requires the named positional arguments, no more, no fewer.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == len(names) {
			return nil
		}
		want := "no arguments"
		if len(names) > 0 {
			want = strings.ToUpper(strings.Join(names, " "))
		}
		return usage("see '"+cmd.CommandPath()+" --help'",
			"%s takes %s, got %d argument(s)", cmd.CommandPath(), want, len(args))
	}
}

// maxArgs allows up to n optional positional arguments.
func maxArgs(n int, names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) <= n {
			return nil
		}
		return usage("see '"+cmd.CommandPath()+" --help'",
			"%s takes at most %d argument(s) (%s), got %d", cmd.CommandPath(), n, strings.Join(names, " "), len(args))
	}
}
