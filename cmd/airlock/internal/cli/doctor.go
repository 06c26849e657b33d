package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airlock-dev/airlock/admin"
	"github.com/airlock-dev/airlock/cmd/airlock/internal/doctor"
	"github.com/airlock-dev/airlock/internal/config"
)

func (a *app) doctorCommand() *cobra.Command {
	var o doctor.Options
	c := &cobra.Command{
		Use:   "doctor",
		Short: "Diagnose the host: kernel, privileges, CA, trust per runtime, DNS, daemon, upstream path",
		Long: `doctor checks everything Airlock depends on and prints a fix for each failure:
  privileges  root, or the capabilities the daemon needs
  kernel      BPF syscall, cgroup2 mount, CGROUP_BPF, each hook type, bpffs
  config      the configuration loads and validates
  credentials each managed credential's source is there and private (the
              value is never read)
  ca          the CA exists, its key is private, it is not about to expire
  trust       each runtime present (curl, node, python3, Go, java) completes a
              real handshake with a loopback endpoint signed by the CA
  dns         the API host names resolve
  daemon      airlockd answers on its admin socket
  upstream    a request to the API host goes through the daemon's path: the
              certificate is Airlock's and an answer comes back from upstream
Exit status 1 when any check fails.`,
		Example: `  sudo airlock doctor
  airlock doctor --only kernel,privileges
  sudo airlock doctor --only ca --container legacy-agent
  airlock doctor --skip trust --json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runDoctor(cmd.Context(), o) },
	}
	c.Flags().StringSliceVar(&o.Only, "only", nil, "run only these sections: "+strings.Join(doctor.Sections, ","))
	c.Flags().StringSliceVar(&o.Skip, "skip", nil, "skip these sections")
	c.Flags().StringVar(&o.Container, "container", "", "also diagnose this container (id or name): found by its runtime, and whether its own trust store holds the CA")
	c.Flags().StringVar(&o.Connect, "connect", "", "dial HOST:PORT instead of the API host's port 443 for the upstream check (the handshake still names the API host)")
	return c
}

// runDoctor prints the report; any failed check makes it exit 1.
func (a *app) runDoctor(ctx context.Context, o doctor.Options) error {
	if n := doctor.Unknown(append(append([]string(nil), o.Only...), o.Skip...)); n != "" {
		return usage("sections are "+strings.Join(doctor.Sections, ", "), "unknown doctor section %q", n)
	}
	r := doctor.Run(ctx, doctorHost{a}, o)
	var err error
	if a.jsonOut {
		err = writeJSON(a.io.Out, r)
	} else {
		err = r.WriteText(a.io.Out)
	}
	if err != nil {
		return err
	}
	if n := r.Failed(); n > 0 {
		return fail(nil, "apply the fixes listed above, then run 'airlock doctor' again", "%d check(s) failed", n)
	}
	return nil
}

// doctorHost is what the doctor needs from the CLI.
type doctorHost struct{ a *app }

func (h doctorHost) ConfigPath() string              { return h.a.configPath }
func (h doctorHost) Config() (*config.Config, error) { return h.a.loadConfig() }

func (h doctorHost) Status(ctx context.Context) (admin.Status, string, error) {
	c, sock := h.a.client()
	st, err := c.Status(ctx)
	if err != nil {
		return st, sock, adminError(err, sock, "admin socket", "")
	}
	return st, sock, nil
}
