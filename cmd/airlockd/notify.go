package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"go.uber.org/zap"
)

// notifyReady tells systemd (Type=notify) that startup finished and starts the
// watchdog pings when WatchdogSec is set. Outside systemd both are no-ops.
func (w *waiter) notifyReady() {
	notify(w.log, sd.SdNotifyReady)
	interval, err := sd.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		return
	}
	w.armTestHang()
	go w.watchdog(interval / 2)
}

// testHangEnv, set in airlockd's environment (the install tests' drop-in
// does), makes SIGUSR2 wedge the watchdog's health check the way a deadlock
// would, so that a test can prove systemd's watchdog restarts a hung daemon.
// Without it SIGUSR2 keeps its default action.
const testHangEnv = "AIRLOCK_TEST_WATCHDOG_HANG"

func (w *waiter) armTestHang() {
	if os.Getenv(testHangEnv) != "1" {
		return
	}
	w.hang = make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR2)
	go func() {
		<-sig
		w.log.Warn("SIGUSR2 with " + testHangEnv + "=1: the health check now hangs")
		close(w.hang)
	}()
}

// hung blocks forever once the test-only trigger fired.
func (w *waiter) hung() {
	if w.hang == nil {
		return
	}
	select {
	case <-w.hang:
		select {} // wedged: no more pings
	default:
	}
}

// watchdog pings systemd while the daemon's health check passes; a wedged
// daemon stops pinging and systemd restarts it.
func (w *waiter) watchdog(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		}
		w.hung()
		if err := w.d.Healthy(); err != nil {
			w.log.Warn("health check failed: not pinging the watchdog", zap.Error(err))
			continue
		}
		_, _ = sd.SdNotify(false, sd.SdNotifyWatchdog)
	}
}

func notify(log *zap.Logger, state string) {
	if _, err := sd.SdNotify(false, state); err != nil {
		log.Warn("sd_notify failed", zap.String("state", state), zap.Error(err))
	}
}
