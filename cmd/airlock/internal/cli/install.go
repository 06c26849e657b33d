package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/airlock-dev/airlock/cmd/airlock/internal/installer"
)

type installFlags struct {
	root, from, deployDir, keyFile string
	skipTrust, noStart             bool
}

func (a *app) installCommand() *cobra.Command {
	var f installFlags
	c := &cobra.Command{
		Use:   "install",
		Short: "Install airlockd: binaries, config, state dir, CA, trust, systemd unit, then a self-test",
		Long: `install puts Airlock on this host: airlock and airlockd in /usr/local/bin,
the example configuration as /etc/airlock/airlock.yaml (or --config; an
existing one is kept), the state directory (0700), the managed key (--key-file,
stored 0600 where the configuration reads it), a CA limited to the API host
names, trust for that CA in the system store and the runtimes' environment, and
the systemd unit, which it enables and starts before checking a request through
the daemon's path.

Every change is written to ` + installer.ManifestPath + `, so that
'airlock uninstall' undoes exactly what install did. With --root, every path is
under DIR and systemctl is never run (image building, tests). Without systemd as
PID 1, install says so and leaves starting airlockd to you.`,
		Example: `  sudo airlock install --key-file /root/anthropic.key
  sudo airlock install --from ./release --skip-trust
  vault read -field=key secret/anthropic | sudo airlock install --key-file -
  airlock install --root /tmp/image --json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runInstall(cmd.Context(), f) },
	}
	c.Flags().StringVar(&f.root, "root", "/", "install under this directory instead of / (no systemctl)")
	c.Flags().StringVar(&f.from, "from", "", "directory holding airlockd (default: next to this airlock binary)")
	c.Flags().StringVar(&f.deployDir, "deploy-dir", "", "directory holding airlockd.service and the example airlock.yaml (default: searched)")
	c.Flags().StringVar(&f.keyFile, "key-file", "", "store this managed key ('-': standard input) where the configuration reads it, mode 0600")
	c.Flags().BoolVar(&f.skipTrust, "skip-trust", false, "do not provision trust for the CA (run 'airlock trust install' later)")
	c.Flags().BoolVar(&f.noStart, "no-start", false, "do not enable and start the systemd unit")
	return c
}

func (a *app) runInstall(ctx context.Context, f installFlags) error {
	if err := needRoot(f.root); err != nil {
		return err
	}
	src, err := resolveSources(f.from, f.deployDir)
	if err != nil {
		return err
	}
	if src.Key, err = a.readKey(f.keyFile); err != nil {
		return err
	}
	cfg := installer.Config{
		Root: f.root, Sources: src, SkipTrust: f.skipTrust, NoStart: f.noStart, ConfigAt: a.configPath,
		Hooks: a.hooks(f.root, src.Unit), Progress: a.progress(),
	}
	steps, err := installer.Install(ctx, cfg)
	a.finishSteps(steps, err)
	if err != nil {
		return installFailure(err)
	}
	if !a.jsonOut {
		fmt.Fprintln(a.io.Out, "\n"+nextSteps(steps))
	}
	return nil
}

// nextSteps tells the operator what is left after a successful install.
func nextSteps(steps []installer.Step) string {
	for _, s := range steps {
		if s.Name == "credential" && s.Status == "missing" {
			return "Installed. Next: put the managed key in place (" + s.Detail + "; mode 0600, or rerun with --key-file),\n" +
				"then 'systemctl enable --now airlockd', 'airlock doctor' and 'airlock status'."
		}
	}
	return "Installed. Check it with 'airlock doctor' and 'airlock status'."
}

// readKey reads the managed key for --key-file; nil when not given.
func (a *app) readKey(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	key, err := a.readFileOrStdin(path)
	if err != nil {
		return nil, fail(err, "give a readable file, or '-' to read the key from standard input", "reading --key-file")
	}
	if len(bytes.TrimSpace(key)) == 0 {
		return nil, usage("give the file holding the managed API key or token", "--key-file %s is empty", path)
	}
	return key, nil
}

func installFailure(err error) error {
	if errors.Is(err, installer.ErrStartFailed) {
		return fail(err, "see 'journalctl -u airlockd' and 'airlock doctor'; the install is kept ('airlock uninstall' removes it)",
			"installed, but the daemon is not working")
	}
	return fail(err, "correct the cause and run install again (nothing was left behind)", "install failed")
}

// needRoot refuses to write system paths without root.
func needRoot(root string) error {
	if (root == "/" || root == "") && os.Geteuid() != 0 {
		return fail(nil, "run it as root (sudo), or pass --root DIR to work on a directory tree", "this changes system paths and needs root")
	}
	return nil
}

// progress prints each step as it ends (tables are for --json's absence).
func (a *app) progress() func(installer.Step) {
	if a.jsonOut {
		return nil
	}
	return func(s installer.Step) { printStep(a.io.Out, s) }
}

func printStep(w io.Writer, s installer.Step) {
	fmt.Fprintf(w, "  %-7s %-14s %s\n", s.Status, s.Name, oneLine(s.Detail))
}

// finishSteps prints the JSON summary when asked.
func (a *app) finishSteps(steps []installer.Step, err error) {
	if !a.jsonOut {
		return
	}
	out := struct {
		OK       bool             `json:"ok"`
		Error    string           `json:"error,omitempty"`
		Steps    []installer.Step `json:"steps"`
		Manifest string           `json:"manifest"`
	}{OK: err == nil, Steps: steps, Manifest: installer.ManifestPath}
	if out.Steps == nil {
		out.Steps = []installer.Step{}
	}
	if err != nil {
		out.Error = err.Error()
	}
	_ = writeJSON(a.io.Out, out)
}
