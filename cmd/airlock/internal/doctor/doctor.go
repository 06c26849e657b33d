// Package doctor diagnoses a host for Airlock: privileges, kernel, config,
// credential sources, CA, trust per runtime, DNS, the daemon and the path to
// upstream, each failure with its fix. The CLI gives it what it needs through
// Host and prints the Report; `airlock install` reuses its path probe.
package doctor

import (
	"context"
	"errors"
	"slices"

	"github.com/airlock-dev/airlock/admin"
	"github.com/airlock-dev/airlock/internal/config"
	"github.com/airlock-dev/airlock/tlsmitm"
)

// Check results.
const (
	OK   = "ok"
	Warn = "warn"
	Fail = "FAIL"
	Skip = "skip"
)

// Check is one line of the doctor's report.
type Check struct {
	Section string `json:"section"`
	Name    string `json:"name"`
	Result  string `json:"result"` // ok | warn | FAIL | skip
	Detail  string `json:"detail,omitempty"`
	Fix     string `json:"fix,omitempty"`
}

// Sections in the order they run: each later one depends on the earlier.
var Sections = []string{"privileges", "kernel", "config", "credentials", "ca", "trust", "dns", "daemon", "upstream"}

// Host is what the doctor needs from the command line.
type Host interface {
	// ConfigPath names the configuration file in the report.
	ConfigPath() string
	// Config loads the configuration exactly as airlockd would.
	Config() (*config.Config, error)
	// Status asks the running daemon, and says at which admin socket. An
	// error with an Explain method gives the operator's reason and fix.
	Status(ctx context.Context) (admin.Status, string, error)
}

// explained is an error that knows its one-line reason and its fix (the
// CLI's errors are).
type explained interface {
	Explain() (reason, fix string)
}

// Options are the command's flags.
type Options struct {
	Only, Skip []string
	Connect    string // HOST:PORT the upstream check dials instead of the API host's port 443
	Container  string // also diagnose this container
}

// Unknown returns the first name that is not a section, or "".
func Unknown(names []string) string {
	for _, n := range names {
		if !slices.Contains(Sections, n) {
			return n
		}
	}
	return ""
}

// env is what the sections share.
type env struct {
	host   Host
	opts   Options
	cfg    *config.Config
	cfgErr error
}

// Run runs the wanted sections in order, then the container's checks.
func Run(ctx context.Context, h Host, o Options) Report {
	d := &env{host: h, opts: o}
	d.cfg, d.cfgErr = h.Config()
	var r Report
	for _, s := range Sections {
		if d.wanted(s) {
			r.Checks = append(r.Checks, d.run(ctx, s)...)
		}
	}
	if o.Container != "" {
		for _, c := range d.containerChecks(ctx) {
			c.Section = "container"
			r.Checks = append(r.Checks, c)
		}
	}
	r.OK = r.Failed() == 0
	return r
}

func (d *env) wanted(section string) bool {
	if len(d.opts.Only) > 0 && !slices.Contains(d.opts.Only, section) {
		return false
	}
	return !slices.Contains(d.opts.Skip, section)
}

func (d *env) run(ctx context.Context, section string) []Check {
	fns := map[string]func(context.Context) []Check{
		"privileges": d.privileges, "kernel": d.kernel, "config": d.config, "credentials": d.credentials, "ca": d.ca,
		"trust": d.trust, "dns": d.dns, "daemon": d.daemon, "upstream": d.upstream,
	}
	out := fns[section](ctx)
	for i := range out {
		out[i].Section = section
	}
	return out
}

// loadCA loads the configured CA, never creating one.
func (d *env) loadCA() (*tlsmitm.Authority, error) {
	if d.cfg == nil {
		return nil, errors.New("no configuration")
	}
	return tlsmitm.LoadCA(tlsmitm.CAConfig{Dir: d.cfg.CADir(), Hosts: d.cfg.Capture.APIHosts})
}

// needConfig is the check that stands in for a section the configuration blocks.
func needConfig(name string) []Check {
	return []Check{{Name: name, Result: Skip, Detail: "the configuration does not load (see config)"}}
}
