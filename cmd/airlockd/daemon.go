package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/internal/config"
)

// daemon owns every component and their order: start brings them up one by
// one (each step may register how to stop it), stop takes them down in
// reverse order within the drain deadline.
type daemon struct {
	cfg   *config.Config
	src   config.Source // where cfg came from: SIGHUP reads it again
	log   *zap.Logger
	level zap.AtomicLevel

	ctx    context.Context // cancelled at shutdown: background loops (watchers, watchdog)
	cancel context.CancelFunc
	fatal  chan error // a component that stopped on its own
	stops  []stopStep

	parts    components
	drainTLS func(ctx context.Context) error // idempotent: capture's stop drains first
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

func newDaemon(cfg *config.Config, src config.Source, log *zap.Logger, level zap.AtomicLevel) *daemon {
	ctx, cancel := context.WithCancel(context.Background())
	return &daemon{cfg: cfg, src: src, log: log, level: level, ctx: ctx, cancel: cancel, fatal: make(chan error, 4)}
}

// start runs the startup sequence; on error the caller calls abort.
func (d *daemon) start(ctx context.Context) error {
	began := time.Now()
	for _, s := range d.sequence() {
		if err := s.start(ctx); err != nil {
			d.log.Error("startup failed", zap.String("step", s.name), zap.Error(err))
			return err
		}
		d.log.Debug("started", zap.String("step", s.name))
	}
	d.notifyReady()
	d.log.Info("ready", zap.Duration("startup", time.Since(began)),
		zap.String("fail_mode", d.cfg.Capture.FailMode), zap.Strings("api_hosts", d.cfg.Capture.APIHosts))
	return nil
}

// onStop registers how to stop what a start step just started.
func (d *daemon) onStop(name string, stop func(ctx context.Context) error) {
	d.stops = append(d.stops, stopStep{name: name, stop: stop})
}

// report lets a component that ended on its own stop the daemon.
func (d *daemon) report(err error) {
	select {
	case d.fatal <- err:
	default:
	}
}

// wait serves signals until SIGTERM/SIGINT or a fatal component error.
func (d *daemon) wait() error {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	for {
		select {
		case s := <-sigs:
			if s == syscall.SIGHUP {
				d.reload()
				continue
			}
			d.log.Info("stopping", zap.String("signal", s.String()), zap.Duration("drain_timeout", d.cfg.DrainTimeout))
			return d.stop()
		case err := <-d.fatal:
			d.log.Error("component failed: stopping", zap.Error(err))
			_ = d.stop()
			return err
		}
	}
}

// stop drains and closes everything in reverse start order.
func (d *daemon) stop() error {
	d.notifyStopping()
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

// abort undoes a partial start.
func (d *daemon) abort() {
	_ = d.stop()
}
