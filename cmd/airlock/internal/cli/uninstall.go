package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/airlock-dev/airlock/cmd/airlock/internal/installer"
)

type uninstallFlags struct {
	root, pinDir     string
	keepState, purge bool
}

func (a *app) uninstallCommand() *cobra.Command {
	var f uninstallFlags
	c := &cobra.Command{
		Use:   "uninstall",
		Short: "Undo exactly what install did, detach and unpin capture",
		Long: `uninstall reads the manifest install wrote and undoes each change, last first:
it stops and disables the unit, detaches the eBPF programs and removes their pins
(also when the daemon crashed: the pins are removed from the pin directory
directly), removes the trust it provisioned, the unit, the state directory, the
configuration (unless you edited it: then it is kept, or removed with --purge)
and the binaries. Without a manifest it still detaches and unpins.`,
		Example: `  sudo airlock uninstall
  sudo airlock uninstall --keep-state     # keep the CA and the audit trail
  airlock uninstall --root /tmp/image`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runUninstall(cmd.Context(), f) },
	}
	c.Flags().StringVar(&f.root, "root", "/", "uninstall from under this directory instead of / (no systemctl)")
	c.Flags().BoolVar(&f.keepState, "keep-state", false, "keep the state directory (CA, audit store, recordings)")
	c.Flags().BoolVar(&f.purge, "purge", false, "also remove files edited since install (the configuration)")
	c.Flags().StringVar(&f.pinDir, "pin-dir", "", "detach and unpin this bpffs directory, exactly there even with --root (default: the manifest's, else capture.pin_dir)")
	return c
}

func (a *app) runUninstall(ctx context.Context, f uninstallFlags) error {
	if err := needRoot(f.root); err != nil {
		return err
	}
	cfg := installer.UninstallConfig{
		Root: f.root, KeepState: f.keepState, Purge: f.purge, PinDir: a.pinDir(), PinDirHost: f.pinDir,
		Hooks: a.hooks(f.root, ""), Progress: a.progress(),
	}
	steps, err := installer.Uninstall(ctx, cfg)
	noManifest := errors.Is(err, installer.ErrNoManifest)
	if noManifest {
		err = nil // capture was still detached: nothing else was installed here
	}
	a.finishSteps(steps, err)
	if err != nil {
		return fail(err, "correct the cause and run uninstall again: the manifest keeps what is left to undo", "uninstall incomplete")
	}
	if !a.jsonOut && noManifest {
		fmt.Fprintln(a.io.Out, "No install manifest under "+f.root+": nothing else to undo.")
	} else if !a.jsonOut {
		fmt.Fprintln(a.io.Out, "\nUninstalled.")
	}
	return nil
}
