package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/airlock-dev/airlock/internal/config"
	"github.com/airlock-dev/airlock/tlsmitm"
	"github.com/airlock-dev/airlock/tlsmitm/trust"
)

func (a *app) caCommand() *cobra.Command {
	return group("ca", "Show, export and rotate Airlock's CA",
		`  airlock ca export > airlock-ca.pem
  sudo airlock ca rotate`,
		a.caExportCommand(), a.caRotateCommand())
}

func (a *app) caExportCommand() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "export",
		Short: "Print the CA certificates clients must trust (PEM)",
		Long: `export prints every CA certificate clients must trust, as PEM: the current CA
and, after a rotation, the previous one until its leaves have expired. Use it to
provision trust where 'airlock trust install' cannot reach (containers, images,
other hosts' clients). With --json, prints the fingerprint and expiry as well.`,
		Example: `  airlock ca export > /usr/local/share/ca-certificates/airlock.crt
  airlock ca export --out ca.pem
  airlock ca export --json`,
		Args: exactArgs(),
		RunE: func(*cobra.Command, []string) error { return a.runCAExport(out) },
	}
	c.Flags().StringVar(&out, "out", "", "write to this file instead of standard output")
	return c
}

func (a *app) runCAExport(out string) error {
	cfg, ca, err := a.currentCA()
	if err != nil {
		return err
	}
	if a.jsonOut {
		return writeJSON(a.io.Out, caInfo(cfg, ca))
	}
	if out == "" {
		_, err = a.io.Out.Write(ca.CertPEM())
		return err
	}
	if err := os.WriteFile(out, ca.CertPEM(), 0o644); err != nil {
		return fail(err, "choose a writable path", "writing %s", out)
	}
	return nil
}

// caSummary is the CA as status, export and rotate report it.
type caSummary struct {
	Dir         string   `json:"dir"`
	Fingerprint string   `json:"fingerprint_sha256"`
	NotAfter    string   `json:"not_after"`
	Hosts       []string `json:"hosts"`
	PEM         string   `json:"pem,omitempty"`
}

func caInfo(cfg *config.Config, ca *tlsmitm.Authority) caSummary {
	return caSummary{Dir: cfg.CADir(), Fingerprint: ca.Fingerprint(), NotAfter: cell(ca.NotAfter()),
		Hosts: ca.Hosts(), PEM: string(ca.CertPEM())}
}

// currentCA loads the configured CA, never creating one.
func (a *app) currentCA() (*config.Config, *tlsmitm.Authority, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	ca, err := loadCA(cfg.CADir(), cfg.Capture.APIHosts)
	if err != nil {
		return nil, nil, fail(err, "install Airlock ('airlock install') or start airlockd once: it creates the CA", "cannot load the CA")
	}
	return cfg, ca, nil
}

func (a *app) caRotateCommand() *cobra.Command {
	var noTrust bool
	c := &cobra.Command{
		Use:   "rotate",
		Short: "Replace the CA with a new one, keeping the old one trusted until its leaves expire",
		Long: `rotate creates a new CA (same name constraints) and retires the current one: its
key is deleted, its certificate stays in the trust bundle until every leaf it
signed has expired. Trust provisioned by 'airlock trust install' is refreshed so
clients trust the new CA (skip with --no-trust). Restart airlockd afterwards so
it signs with the new CA (systemctl restart airlockd).`,
		Example: `  sudo airlock ca rotate
  sudo airlock ca rotate --no-trust --json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runCARotate(cmd.Context(), noTrust) },
	}
	c.Flags().BoolVar(&noTrust, "no-trust", false, "do not refresh the provisioned trust")
	return c
}

func (a *app) runCARotate(ctx context.Context, noTrust bool) error {
	cfg, old, err := a.currentCA()
	if err != nil {
		return err
	}
	if err := tlsmitm.RotateCA(tlsmitm.CAConfig{Dir: cfg.CADir(), Hosts: cfg.Capture.APIHosts}); err != nil {
		return fail(err, "run it as root; the CA directory must be writable", "rotating the CA")
	}
	ca, err := loadCA(cfg.CADir(), cfg.Capture.APIHosts)
	if err != nil {
		return fail(err, "inspect "+cfg.CADir(), "loading the new CA")
	}
	trusted, err := refreshTrust(ctx, cfg.StateDir, ca.CertPEM(), noTrust)
	if err != nil {
		return err
	}
	if a.jsonOut {
		return writeJSON(a.io.Out, map[string]any{"old_fingerprint": old.Fingerprint(), "ca": caInfo(cfg, ca), "trust": trusted})
	}
	fmt.Fprintf(a.io.Out, "rotated: %s -> %s (valid until %s); trust %s.\nNext: systemctl restart airlockd, so it signs with the new CA.\n",
		short(old.Fingerprint()), short(ca.Fingerprint()), cell(ca.NotAfter()), trusted)
	return nil
}

// refreshTrust re-provisions trust with the rotated bundle, where trust
// had been provisioned, and says what it did.
func refreshTrust(ctx context.Context, stateDir string, pem []byte, skip bool) (string, error) {
	opts := trust.Options{StateDir: stateDir}
	switch {
	case skip:
		return "not refreshed (--no-trust)", nil
	case !trustProvisioned(ctx, opts):
		return "not provisioned here (run 'airlock trust install' to provision it)", nil
	}
	if err := trust.Install(ctx, opts, pem); err != nil {
		return "", fail(err, "run 'airlock trust install' once the cause is fixed", "the CA rotated, but refreshing trust failed")
	}
	return "refreshed", nil
}

// short abbreviates a fingerprint for a terminal.
func short(fp string) string { return truncate(fp, 24) }
