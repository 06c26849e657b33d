// Package daemon is airlockd's assembly: from a validated config.Config it
// starts every component in a safe order (lock, state, CA, credentials,
// policy, masking, audit, approvals, gateway, TLS, capture, admin API), stops
// them in reverse within the drain deadline, applies reloads and reports the
// daemon's status. cmd/airlockd wraps it with flags, signals, logging and
// systemd notification; tests and the benchmark import it, so they run
// exactly the data path the daemon runs.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/gateway"
	"github.com/airlock-dev/airlock/intercept"
	"github.com/airlock-dev/airlock/internal/config"
	"github.com/airlock-dev/airlock/tlsmitm"
)

// Options are what the configuration file does not say.
type Options struct {
	Log *zap.Logger // nil: no logging
	// Level is Log's level: a reload that changes log.level sets it.
	Level zap.AtomicLevel
	// NoCapture leaves out the eBPF capture: the caller hands connections to
	// TLS() itself (the benchmark's plain listener, tests without root).
	NoCapture bool
}

// Daemon owns every component and their order: Start brings them up one by
// one (each step may register how to stop it), Close takes them down in
// reverse order within the drain deadline.
type Daemon struct {
	// live guards the parts of cfg a reload changes (log level, targets)
	// against Status, which the admin API serves while SIGHUP applies them.
	live sync.RWMutex
	cfg  *config.Config
	opts Options
	log  *zap.Logger

	ctx    context.Context // cancelled at Close: background loops (watchers, selector)
	cancel context.CancelFunc
	failed chan error // a component that stopped on its own
	stops  []stopStep

	parts    components
	drainTLS func(ctx context.Context) error // idempotent: capture's stop drains first
	stopRun  func()                          // ends the capture's Run and waits for it
}

type stopStep struct {
	name string
	stop func(ctx context.Context) error
}

type startStep struct {
	name  string
	start func(ctx context.Context) error
}

// errNoPolicy fails the health check: no policy is in force.
var errNoPolicy = errors.New("no policy in force")

// New prepares a daemon for cfg (loaded by config.Load, or built from
// config.Default and resolved).
func New(cfg *config.Config, opts Options) *Daemon {
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.Level == (zap.AtomicLevel{}) {
		opts.Level = zap.NewAtomicLevel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Daemon{cfg: cfg, opts: opts, log: opts.Log, ctx: ctx, cancel: cancel, failed: make(chan error, 4)}
}

// Start validates the configuration and runs the startup sequence. On error
// it stops what it had started.
func (d *Daemon) Start(ctx context.Context) error {
	if err := d.cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	began := time.Now()
	for _, s := range d.sequence() {
		if err := s.start(ctx); err != nil {
			d.log.Error("startup failed", zap.String("step", s.name), zap.Error(err))
			_ = d.Close()
			return err
		}
		d.log.Debug("started", zap.String("step", s.name))
	}
	d.log.Info("ready", zap.Duration("startup", time.Since(began)),
		zap.String("fail_mode", d.cfg.Capture.FailMode), zap.Strings("api_hosts", d.cfg.Capture.APIHosts))
	return nil
}

// Failed delivers the error of a component that stopped on its own: the
// caller then closes the daemon.
func (d *Daemon) Failed() <-chan error { return d.failed }

// Config is the configuration in force (reloads update its live parts).
func (d *Daemon) Config() *config.Config { return d.cfg }

// Gateway is the HTTP handler between TLS and the upstream.
func (d *Daemon) Gateway() *gateway.Gateway { return d.parts.gateway }

// TLS is the server that terminates intercepted connections.
func (d *Daemon) TLS() *tlsmitm.Server { return d.parts.tls }

// CA is the authority that signs the leaves clients see.
func (d *Daemon) CA() *tlsmitm.Authority { return d.parts.ca }

// Interceptor is the capture (nil with Options.NoCapture).
func (d *Daemon) Interceptor() *intercept.Interceptor { return d.parts.capture }

// onStop registers how to stop what a start step just started.
func (d *Daemon) onStop(name string, stop func(ctx context.Context) error) {
	d.stops = append(d.stops, stopStep{name: name, stop: stop})
}

// report lets a component that ended on its own stop the daemon.
func (d *Daemon) report(err error) {
	select {
	case d.failed <- err:
	default:
	}
}

// Close drains and closes everything in reverse start order; in-flight
// requests and streams get until the drain deadline.
func (d *Daemon) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.DrainTimeout)
	defer cancel()
	var errs []error
	for i := len(d.stops) - 1; i >= 0; i-- {
		s := d.stops[i]
		if err := s.stop(ctx); err != nil {
			d.log.Warn("stop", zap.String("step", s.name), zap.Error(err))
			errs = append(errs, err)
		}
	}
	d.stops = nil
	d.cancel()
	return errors.Join(errs...)
}
