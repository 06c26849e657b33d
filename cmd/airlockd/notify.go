package main

import (
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
	go w.watchdog(interval / 2)
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
