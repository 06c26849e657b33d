package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) consoleCommand() *cobra.Command {
	return group("console", "The reviewers' web console",
		`  sudo airlock console open`,
		a.consoleOpenCommand())
}

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
