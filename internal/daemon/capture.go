package daemon

import (
	"context"
	"errors"
	"net/netip"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/admin"
	"github.com/airlock-dev/airlock/containers"
	"github.com/airlock-dev/airlock/intercept"
	"github.com/airlock-dev/airlock/internal/config"
)

// startCapture loads (or adopts) the eBPF programs, opens the listener that
// hands API connections to the TLS server, and starts target selection.
func (d *Daemon) startCapture(context.Context) error {
	if d.opts.NoCapture {
		d.onStop("tls_drain", d.drainTLS)
		return nil
	}
	cfg := captureConfig(d.cfg.Capture)
	report := captureAuditor{audit: &admin.ObservingAuditor{Auditor: d.parts.audit, Metrics: d.parts.metrics}}
	runtimes := containers.NewRuntimes(d.cfg.Capture.Containers.Sockets, d.log).WithCRI(d.cfg.Capture.Containers.CRISockets)
	handler := namingHandler{next: d.parts.tls, runtimes: runtimes}
	ic, err := intercept.New(cfg, handler, report, d.log)
	if err != nil {
		return captureError(cfg, err)
	}
	d.parts.capture = ic
	d.parts.metrics.SetBPFFunc(d.bpfCounters)
	d.namespaceMetrics(ic)
	d.injectContainerTrust(ic, report.audit, runtimes)
	ctx, cancel := context.WithCancel(d.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := ic.Run(ctx); err != nil && ctx.Err() == nil {
			d.report(err)
		}
	}()
	d.stopRun = func() { cancel(); <-done }
	d.onStop("capture", d.stopCapture)
	return nil
}

// stopCapture first drains the TLS server (in-flight requests and streams
// finish, up to the drain deadline; closing the listener would cut them),
// then closes the listener. Fail closed keeps the links pinned, so
// Claude-bound connections are refused until a daemon adopts them; fail open
// detaches them so applications reach the API directly.
func (d *Daemon) stopCapture(ctx context.Context) error {
	if err := d.drainTLS(ctx); err != nil {
		d.log.Warn("drain deadline passed: cutting the remaining connections", zap.Error(err))
	}
	d.stopRun()
	if d.cfg.Capture.FailMode == config.FailOpen {
		d.log.Info("fail mode open: detaching the eBPF programs")
		return d.parts.capture.Detach()
	}
	d.log.Info("fail mode closed: eBPF programs stay pinned", zap.String("pin_dir", d.cfg.Capture.PinDir))
	return d.parts.capture.Close()
}

// mark is the SO_MARK of the daemon's own sockets: capture.mark, or (0, the
// default) one drawn once per start. The kernel skips only sockets that
// carry it and belong to this process, so the mark need not be secret; a
// fresh one still keeps a leaked value from meaning anything after restart.
func (d *Daemon) mark() uint32 {
	if d.cfg.Capture.Mark == 0 {
		d.cfg.Capture.Mark = intercept.RandomMark()
	}
	return d.cfg.Capture.Mark
}

func (d *Daemon) bpfCounters() map[string]uint64 {
	if d.parts.capture == nil {
		return nil
	}
	c, err := d.parts.capture.Loader.Counters()
	if err != nil {
		return nil
	}
	out := map[string]uint64{"redirected": c.Redirected, "skipped": c.Skipped, "excluded": c.Excluded,
		"map_full": c.MapFull, "refused": c.Refused}
	if nc, err := d.parts.capture.Loader.NetnsCounters(); err == nil {
		out["netns_refused"], out["netns_report_lost"] = nc.Refused, nc.ReportLost
		out["netns_held"], out["netns_held_passed"] = nc.Held, nc.HeldPassed
	}
	return out
}

// captureConfig converts validated config into capture's typed config.
func captureConfig(c config.Capture) intercept.Config {
	ic := intercept.Config{
		Targets: prefixes(c.Targets), Ports: ports(c.Ports), CgroupPath: c.Cgroup, PinDir: c.PinDir, Mark: c.Mark, ExcludeSelf: true,
		ListenV4: netip.MustParseAddrPort(c.ListenV4), Hosts: c.Hosts, APIHosts: c.APIHosts,
		RelayAllow: c.RelayAllow, MaxNamespaces: c.Containers.MaxNamespaces,
	}
	if c.ListenV6 != "" {
		ic.ListenV6 = netip.MustParseAddrPort(c.ListenV6)
	}
	return ic
}

func prefixes(cidrs []string) []netip.Prefix {
	var out []netip.Prefix
	for _, t := range cidrs {
		out = append(out, netip.MustParsePrefix(t))
	}
	return out
}

func ports(ps []int) []uint16 {
	var out []uint16
	for _, p := range ps {
		out = append(out, uint16(p))
	}
	return out
}

// captureError turns a capture failure into one line with its fix: capture's
// own SetupError when it has one, else the first failing host diagnostic.
func captureError(cfg intercept.Config, err error) error {
	var se *intercept.SetupError
	if errors.As(err, &se) {
		return fail("capture: "+se.What, se.Fix, se.Err)
	}
	for _, c := range intercept.Checks(cfg) {
		if !c.OK {
			return fail("capture: "+c.Name+": "+c.Detail, c.Fix, err)
		}
	}
	return fail("capture", "run `airlock doctor` for the kernel and privilege checks", err)
}
