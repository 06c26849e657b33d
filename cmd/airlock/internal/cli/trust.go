package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/airlock-dev/airlock/tlsmitm/trust"
)

func (a *app) trustCommand() *cobra.Command {
	var root string
	c := group("trust", "Provision, remove and inspect trust for Airlock's CA",
		`  sudo airlock trust install
  airlock trust status
  sudo airlock trust uninstall`,
		a.trustInstallCommand(&root), a.trustUninstallCommand(&root), a.trustStatusCommand(&root))
	c.PersistentFlags().StringVar(&root, "root", "/", "work on the trust stores under this directory")
	return c
}

func (a *app) trustInstallCommand(root *string) *cobra.Command {
	var cf containerFlags
	c := &cobra.Command{
		Use:   "install",
		Short: "Add the CA to the system store, the runtime environment drop-ins and the Java keystore",
		Long: `install adds Airlock's CA where each runtime looks: the system store
(update-ca-certificates or update-ca-trust), NODE_EXTRA_CA_CERTS for Node and
SSL_CERT_FILE / REQUESTS_CA_BUNDLE for OpenSSL and Python, through drop-ins that
services (systemd) and login shells read, and the Java keystore when keytool
exists. It is idempotent and records what it added, so uninstall removes only
that. Services pick the variables up when restarted; shells at the next login.`,
		Example: `  sudo airlock trust install
  sudo airlock trust install --root /tmp/image
  sudo airlock trust install --container legacy-agent`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cf.set() {
				return a.installContainerTrust(cmd.Context(), cf)
			}
			opts, pem, err := a.trustSetup(*root)
			if err != nil {
				return err
			}
			if err := trust.Install(cmd.Context(), opts, pem); err != nil {
				return fail(err, "run it as root; on other distributions use 'airlock ca export' and your own tooling", "provisioning trust")
			}
			// Installed: what is listed as missing (the system bundle under
			// --root, where update-ca-certificates is not run) is information.
			if err := a.printTrustStatus(cmd.Context(), opts, pem); err != nil && !isFailure(err) {
				return err
			}
			return nil
		},
	}
	cf.add(c)
	return c
}

func (a *app) trustUninstallCommand(root *string) *cobra.Command {
	var cf containerFlags
	c := &cobra.Command{
		Use:     "uninstall",
		Short:   "Remove exactly the trust that 'airlock trust install' added",
		Example: "  sudo airlock trust uninstall\n  sudo airlock trust uninstall --container legacy-agent",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cf.set() {
				return a.uninstallContainerTrust(cmd.Context(), cf)
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			opts := trust.Options{Root: *root, StateDir: cfg.StateDir}
			if err := trust.Uninstall(cmd.Context(), opts); err != nil {
				return fail(err, "run it as root", "removing trust")
			}
			if a.jsonOut {
				return writeJSON(a.io.Out, map[string]bool{"removed": true})
			}
			fmt.Fprintln(a.io.Out, "trust removed")
			return nil
		},
	}
	cf.add(c)
	return c
}

func (a *app) trustStatusCommand(root *string) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show each piece of trust provisioning and whether it holds the current CA",
		Long: `status lists each piece 'airlock trust install' provisions and whether it is in
place with the current CA. Exit status 1 when a piece is missing or stale. To
prove that each runtime actually trusts the CA, run 'airlock doctor'.`,
		Example: `  airlock trust status
  airlock trust status --json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, pem, err := a.trustSetup(*root)
			if err != nil {
				return err
			}
			return a.printTrustStatus(cmd.Context(), opts, pem)
		},
	}
}

// trustSetup loads the configuration and the CA the trust commands work with.
func (a *app) trustSetup(root string) (trust.Options, []byte, error) {
	cfg, ca, err := a.currentCA()
	if err != nil {
		return trust.Options{}, nil, err
	}
	return trust.Options{Root: root, StateDir: cfg.StateDir}, ca.CertPEM(), nil
}

func (a *app) printTrustStatus(ctx context.Context, opts trust.Options, pem []byte) error {
	items, err := trust.Status(ctx, opts, pem)
	if err != nil {
		return fail(err, "on other distributions, provision 'airlock ca export' with your own tooling", "reading trust status")
	}
	missing := 0
	for _, it := range items {
		if !it.Installed {
			missing++
		}
	}
	if a.jsonOut {
		err = writeJSON(a.io.Out, map[string]any{"ok": missing == 0, "items": items})
	} else {
		t := newTable(a.io.Out, "PIECE", "INSTALLED", "PATH", "DETAIL")
		for _, it := range items {
			t.row(it.Name, yesNo(it.Installed), it.Path, it.Detail)
		}
		err = t.flush()
	}
	if err == nil && missing > 0 {
		return fail(nil, "run 'sudo airlock trust install'", "%d piece(s) of trust missing or stale", missing)
	}
	return err
}

// trustProvisioned reports whether trust install has put anything in place.
func trustProvisioned(ctx context.Context, opts trust.Options) bool {
	items, err := trust.Status(ctx, opts, nil)
	for _, it := range items {
		if it.Installed {
			return err == nil
		}
	}
	return false
}

// isFailure reports whether err is a reported failure (exit 1) rather than
// an I/O error.
func isFailure(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == ExitFailure
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
