package cli

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airlock-dev/airlock/console"
	"github.com/airlock-dev/airlock/internal/config"
)

func (a *app) consoleCommand() *cobra.Command {
	var f fleetConsoleFlags
	c := &cobra.Command{
		Use:   "console",
		Short: "The reviewers' web console: open this host's, or serve a fleet's with --central",
		Long: `With --central, console serves the web console for a whole fleet from its central
PostgreSQL store: every host's held requests (decided there, applied by the
holding host within a second), audit, sessions and usage. It reads console.*
(listen, reviewers, oidc, cert_file) from the configuration file, prints the
console's address and a one-time sign-in link for you, and serves until
interrupted. Without --central, see 'airlock console open'.`,
		Example: `  sudo airlock console open
  airlock --central postgres://alice@db.internal/airlock --as alice console --listen 127.0.0.1:9443`,
		Args: unknownSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !a.usesCentral() {
				return cmd.Help()
			}
			return a.runFleetConsole(cmd.Context(), f)
		},
	}
	c.Flags().StringVar(&f.listen, "listen", "", "with --central: address to serve on (default: console.listen)")
	c.Flags().StringVar(&f.stateDir, "state-dir", "", "with --central: where the self-signed certificate is kept (default: your cache directory)")
	c.AddCommand(a.consoleOpenCommand())
	return c
}

type fleetConsoleFlags struct{ listen, stateDir string }

func (a *app) consoleOpenCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "open",
		Short: "Print a one-time sign-in link to this host's web console (root only)",
		Long: `open asks the daemon for a link that signs its holder in to the web console
once, within ten minutes, as root on this host. It is meant for a single host
without an identity provider: with console.oidc set, reviewers sign in there.`,
		Example: `  sudo airlock console open`,
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, sock := a.client()
			link, err := c.ConsoleLink(cmd.Context())
			if err != nil {
				return adminError(err, sock, "asking for a console sign-in link", "")
			}
			fmt.Fprintln(a.io.Out, link.URL)
			return nil
		},
	}
}

// runFleetConsole serves the console against the central store until ctx ends.
func (a *app) runFleetConsole(ctx context.Context, f fleetConsoleFlags) error {
	cc, err := a.fleetConsoleConfig(f)
	if err != nil {
		return err
	}
	db, err := a.centralDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	q, src := console.Central(db)
	s, err := console.New(cc, q, src)
	if err == nil {
		err = s.Start(ctx)
	}
	if err != nil {
		return fail(err, "check --listen and console.* in "+a.configPath, "cannot serve the console")
	}
	defer s.Close()
	fmt.Fprintf(a.io.Out, "serving the fleet console at %s\nsign in once (10 minutes) as %s: %s\n", s.URL(), a.reviewerName(), s.MintLink(a.reviewerName()))
	<-ctx.Done()
	return nil
}

// fleetConsoleConfig is console.* from the configuration file (absent: the
// defaults), with the flags on top.
func (a *app) fleetConsoleConfig(f fleetConsoleFlags) (console.Config, error) {
	cfg := config.Default()
	if _, err := os.Stat(a.configPath); err == nil {
		if cfg, err = a.loadConfig(); err != nil {
			return console.Config{}, err
		}
	}
	c := cfg.Console
	if f.listen != "" {
		c.Listen = f.listen
	}
	if f.stateDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return console.Config{}, fail(err, "pass --state-dir", "no directory for the console's certificate")
		}
		f.stateDir = filepath.Join(dir, "airlock")
	}
	secret, err := readSecret(c.OIDC.ClientSecretFile)
	if err != nil {
		return console.Config{}, err
	}
	return console.Config{Listen: c.Listen, URL: c.URL, CertFile: c.CertFile, KeyFile: c.KeyFile, StateDir: f.stateDir,
		Reviewers: c.Reviewers, OIDC: console.OIDC{Issuer: c.OIDC.Issuer, ClientID: c.OIDC.ClientID,
			ClientSecret: secret, GroupsClaim: c.OIDC.GroupsClaim}}, nil
}

func readSecret(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fail(err, "check console.oidc.client_secret_file", "cannot read the OIDC client secret")
	}
	return strings.TrimSpace(string(b)), nil
}

// reviewerName is who the one-time link signs in: --as, else the local user.
func (a *app) reviewerName() string {
	if a.central.as != "" {
		return a.central.as
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return fmt.Sprintf("uid:%d", os.Getuid())
}
