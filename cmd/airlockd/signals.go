package main

import (
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/internal/config"
	"github.com/airlock-dev/airlock/internal/daemon"
)

// waiter is the running daemon as the process sees it: signals and systemd.
type waiter struct {
	d    *daemon.Daemon
	src  config.Source // where the configuration came from: SIGHUP reads it again
	log  *zap.Logger
	done chan struct{} // closed at stop: ends the watchdog
	hang chan struct{} // closed by the test-only hang trigger (notify.go)
}

// wait serves signals until SIGTERM/SIGINT or a component that failed.
func (w *waiter) wait() error {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	for {
		select {
		case s := <-sigs:
			if s == syscall.SIGHUP {
				w.reload()
				continue
			}
			w.log.Info("stopping", zap.String("signal", s.String()), zap.Duration("drain_timeout", w.d.Config().DrainTimeout))
			return w.stop()
		case err := <-w.d.Failed():
			w.log.Error("component failed: stopping", zap.Error(err))
			_ = w.stop()
			return err
		}
	}
}

// reload re-reads the configuration; an invalid one keeps the running one,
// while the policy file and the credentials are re-read regardless.
func (w *waiter) reload() {
	notify(w.log, "RELOADING=1")
	defer notify(w.log, "READY=1")
	cfg, err := config.Load(w.src)
	if err != nil {
		w.log.Error("invalid configuration: keeping the running one", zap.Error(err))
		cfg = nil
	}
	w.d.Reload(cfg)
}

func (w *waiter) stop() error {
	notify(w.log, "STOPPING=1")
	close(w.done)
	return w.d.Close()
}
