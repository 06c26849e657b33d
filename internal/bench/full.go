package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/airlock-dev/airlock/internal/poll"
)

// FullOptions configure `make bench`.
type FullOptions struct {
	Dir      string // scratch directory (configs, logs, CAs)
	Self     string // this benchmark binary (serves the fake API and the lean Airlock)
	Airlockd string // the airlockd binary; "" = in-process pieces instead of the daemon
	Runs     int
	Sizes    Sizes
	Peers    bool     // nginx and mitmproxy, when installed
	Only     []string // configurations to measure besides direct (empty: all)
	Select   []string // scenario ids to run (empty: all)
	Profile  bool     // profile Airlock's data path per scenario after the measurements
	// ProfileDir keeps the profiles (<scenario>.cpu.pprof, .alloc.pprof); "" = Dir.
	ProfileDir string
	Progress   io.Writer
}

func (o FullOptions) wants(target string) bool {
	return len(o.Only) == 0 || slices.Contains(o.Only, target)
}

func (o FullOptions) scenarios() []Scenario {
	all := Scenarios(o.Sizes)
	if len(o.Select) == 0 {
		return all
	}
	return slices.DeleteFunc(all, func(s Scenario) bool { return !slices.Contains(o.Select, s.ID) })
}

// checkSelect refuses a selected scenario id the suite does not have, so a
// typo measures nothing silently; the error lists the ids there are.
func (o FullOptions) checkSelect() error {
	var ids []string
	for _, s := range Scenarios(o.Sizes) {
		ids = append(ids, s.ID)
	}
	for _, id := range o.Select {
		if !slices.Contains(ids, id) {
			return fmt.Errorf("no scenario %q here; there are %s", id, strings.Join(ids, ", "))
		}
	}
	return nil
}

// full is one full run's state: what is running and what the report says.
type full struct {
	opts    FullOptions
	env     PeerEnv
	procs   []*Proc
	closers []func()
	rep     *Report
	daemon  *Airlockd
}

// RunFull starts every configuration, measures them side by side and stops them.
func RunFull(ctx context.Context, opts FullOptions) (*Report, error) {
	if err := opts.checkSelect(); err != nil {
		return nil, err
	}
	f := &full{opts: opts, rep: &Report{Mode: "full", Runs: opts.Runs, Versions: map[string]string{}}}
	defer f.stop()
	if err := f.startFake(ctx); err != nil {
		return nil, err
	}
	f.add(ctx, Target{Name: Baseline, Label: "client → fake API over TLS: the limit", Addr: f.env.Upstream, Key: ManagedKey}, nil)
	f.startAirlocks(ctx)
	if opts.wants(GoProxyTarget) {
		f.startPeer(ctx, GoProxyTarget, goProxyLabel, StartGoProxy, f.env.PeerCA)
		f.rep.Versions[GoProxyTarget] = runtime.Version()
	}
	if opts.Peers {
		f.startPeers(ctx)
	}
	f.rep.Measured = Suite{Targets: f.rep.Targets, Scenarios: opts.scenarios(), Runs: opts.Runs, Progress: opts.Progress}.Run(ctx)
	f.measureConnect()
	if opts.Profile && ctx.Err() == nil {
		f.profileAirlock(ctx)
	}
	f.rep.Generated, f.rep.Machine = time.Now(), Machine()
	return f.rep, nil
}

func (f *full) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	f.rep.Notes = append(f.rep.Notes, msg)
	fmt.Fprintln(f.opts.Progress, "note:", msg)
}

func (f *full) command(c string) { f.rep.Commands = append(f.rep.Commands, c) }

func (f *full) stop() {
	for i := len(f.closers) - 1; i >= 0; i-- {
		f.closers[i]()
	}
	for i := len(f.procs) - 1; i >= 0; i-- {
		f.procs[i].Stop(10 * time.Second)
	}
}

// startFake runs the fake API in its own process and prepares the peers' certificates.
func (f *full) startFake(ctx context.Context) error {
	addr, err := FreePort()
	if err != nil {
		return err
	}
	argv := []string{f.opts.Self, "serve-fake", "-listen", addr, "-dir", f.opts.Dir, "-key", ManagedKey}
	p, err := StartProc(f.opts.Dir, "fakeapi", nil, argv...)
	if err != nil {
		return err
	}
	f.procs = append(f.procs, p)
	f.command(strings.Join(argv, " ") + " &")
	f.env = PeerEnv{Dir: f.opts.Dir, Upstream: addr, UpstreamCA: filepath.Join(f.opts.Dir, "fakeapi-ca.pem"), ManagedKey: ManagedKey}
	f.env.PeerCA, f.env.LeafCert, f.env.LeafKey, err = PeerCerts(f.opts.Dir)
	if err != nil {
		return err
	}
	return waitFile(ctx, p, f.env.UpstreamCA)
}

func waitFile(ctx context.Context, p *Proc, name string) error {
	err := poll.Until(ctx, 30*time.Second, func() (bool, error) {
		if st, err := os.Stat(name); err == nil && st.Size() > 0 {
			return true, nil
		}
		if p.Exited() {
			return false, fmt.Errorf("%s exited: %s", p.Name, p.Tail())
		}
		return false, nil
	})
	if errors.Is(err, poll.ErrGaveUp) {
		return fmt.Errorf("%s did not write %s: %s", p.Name, name, p.Tail())
	}
	return err
}

// add checks that t answers, then adds it to the report's configurations;
// caFiles are the roots t's clients trust (the fake's CA is always added).
func (f *full) add(ctx context.Context, t Target, p *Proc, caFiles ...string) bool {
	if !f.opts.wants(t.Name) && t.Name != Baseline {
		return false
	}
	roots, err := LoadRoots(append(caFiles, f.env.UpstreamCA)...)
	if err != nil {
		f.note("%s left out: reading its CA: %v", t.Name, err)
		return false
	}
	t.Roots = roots
	if err := f.ready(ctx, t, p); err != nil {
		f.note("%s left out: %v", t.Name, err)
		return false
	}
	f.rep.Targets = append(f.rep.Targets, t)
	return true
}

func (f *full) ready(ctx context.Context, t Target, p *Proc) error {
	if t.Enter != nil {
		leave, err := t.Enter()
		if err != nil {
			return err
		}
		defer leave()
	}
	return WaitReady(ctx, t, p, 60*time.Second)
}

func pidsOf(p *Proc) func() []int { return func() []int { return []int{p.PID()} } }

// lookPath reports whether a peer's program is installed.
func lookPath(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}
