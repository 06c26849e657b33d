package main

import (
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"go.uber.org/zap"
)

// notifyReady tells systemd (Type=notify) that startup finished and starts the
// watchdog pings when WatchdogSec is set. Outside systemd both are no-ops.
func (d *daemon) notifyReady() {
	if _, err := sd.SdNotify(false, sd.SdNotifyReady); err != nil {
		d.log.Warn("sd_notify READY failed", zap.Error(err))
	}
	interval, err := sd.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		return
	}
	go d.watchdog(interval / 2)
}

// watchdog pings systemd while the daemon's health check passes; a wedged
// daemon stops pinging and systemd restarts it.
func (d *daemon) watchdog(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
			if err := d.healthy(); err != nil {
				d.log.Warn("health check failed: not pinging the watchdog", zap.Error(err))
				continue
			}
			_, _ = sd.SdNotify(false, sd.SdNotifyWatchdog)
		}
	}
}

func (d *daemon) notifyStopping() { _, _ = sd.SdNotify(false, sd.SdNotifyStopping) }

func (d *daemon) notifyReloading() { _, _ = sd.SdNotify(false, sd.SdNotifyReloading) }
