package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airlock-dev/airlock/internal/config"
)

// Check results.
const (
	checkOK   = "ok"
	checkWarn = "warn"
	checkFail = "FAIL"
	checkSkip = "skip"
)

// check is one line of the doctor's report.
type check struct {
	Section string `json:"section"`
	Name    string `json:"name"`
	Result  string `json:"result"` // ok | warn | FAIL | skip
	Detail  string `json:"detail,omitempty"`
	Fix     string `json:"fix,omitempty"`
}

// doctorSections in the order they run: each later one depends on the earlier.
var doctorSections = []string{"privileges", "kernel", "config", "credentials", "ca", "trust", "dns", "daemon", "upstream"}

type doctorFlags struct {
	only, skip []string
	connect    string
	container  string
}

// doctorEnv is what the sections share.
type doctorEnv struct {
	a       *app
	flags   doctorFlags
	cfg     *config.Config
	cfgErr  error
	results []check
}

func (a *app) doctorCommand() *cobra.Command {
	var f doctorFlags
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
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runDoctor(cmd.Context(), f) },
	}
	c.Flags().StringSliceVar(&f.only, "only", nil, "run only these sections: "+strings.Join(doctorSections, ","))
	c.Flags().StringSliceVar(&f.skip, "skip", nil, "skip these sections")
	c.Flags().StringVar(&f.container, "container", "", "also diagnose this container (id or name): found by its runtime, and whether its own trust store holds the CA")
	c.Flags().StringVar(&f.connect, "connect", "", "dial HOST:PORT instead of the API host's port 443 for the upstream check (the handshake still names the API host)")
	return c
}

func (a *app) runDoctor(ctx context.Context, f doctorFlags) error {
	if err := validSections(append(slices.Clone(f.only), f.skip...)); err != nil {
		return err
	}
	d := &doctorEnv{a: a, flags: f}
	d.cfg, d.cfgErr = a.loadConfig()
	for _, s := range doctorSections {
		if d.wanted(s) {
			d.results = append(d.results, d.run(ctx, s)...)
		}
	}
	if f.container != "" {
		for _, c := range d.containerChecks(ctx) {
			c.Section = "container"
			d.results = append(d.results, c)
		}
	}
	return d.report()
}

func validSections(names []string) error {
	for _, n := range names {
		if !slices.Contains(doctorSections, n) {
			return usage("sections are "+strings.Join(doctorSections, ", "), "unknown doctor section %q", n)
		}
	}
	return nil
}

func (d *doctorEnv) wanted(section string) bool {
	if len(d.flags.only) > 0 && !slices.Contains(d.flags.only, section) {
		return false
	}
	return !slices.Contains(d.flags.skip, section)
}

func (d *doctorEnv) run(ctx context.Context, section string) []check {
	fns := map[string]func(context.Context) []check{
		"privileges": d.privileges, "kernel": d.kernel, "config": d.config, "credentials": d.credentials, "ca": d.ca,
		"trust": d.trust, "dns": d.dns, "daemon": d.daemon, "upstream": d.upstream,
	}
	out := fns[section](ctx)
	for i := range out {
		out[i].Section = section
	}
	return out
}

// report prints the table, then the fixes; any failure makes it exit 1.
func (d *doctorEnv) report() error {
	failed := 0
	for _, c := range d.results {
		if c.Result == checkFail {
			failed++
		}
	}
	if d.a.jsonOut {
		if err := writeJSON(d.a.io.Out, map[string]any{"ok": failed == 0, "checks": d.results}); err != nil {
			return err
		}
	} else if err := d.printTable(); err != nil {
		return err
	}
	if failed > 0 {
		return fail(nil, "apply the fixes listed above, then run 'airlock doctor' again", "%d check(s) failed", failed)
	}
	return nil
}

func (d *doctorEnv) printTable() error {
	t := newTable(d.a.io.Out, "SECTION", "CHECK", "RESULT", "DETAIL")
	for _, c := range d.results {
		t.row(c.Section, c.Name, c.Result, truncate(oneLine(c.Detail), 100))
	}
	if err := t.flush(); err != nil {
		return err
	}
	first := true
	for _, c := range d.results {
		if c.Fix == "" || c.Result == checkOK || c.Result == checkSkip {
			continue
		}
		if first {
			fmt.Fprintln(d.a.io.Out, "\nFixes:")
			first = false
		}
		fmt.Fprintf(d.a.io.Out, "  %s %s (%s)\n    problem: %s\n    fix:     %s\n", c.Section, c.Name, c.Result, oneLine(c.Detail), oneLine(c.Fix))
	}
	return nil
}

// needConfig is the check that stands in for a section the configuration blocks.
func (d *doctorEnv) needConfig(name string) []check {
	return []check{{Name: name, Result: checkSkip, Detail: "the configuration does not load (see config)"}}
}
