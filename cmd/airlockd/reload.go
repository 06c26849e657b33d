package main

import (
	"slices"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/internal/config"
)

// reload is SIGHUP: re-read the configuration, then apply what can change
// live — log level, targets (CIDRs, host names, ports), the policy file and
// credential values. Anything invalid keeps what is running, and says why.
func (d *daemon) reload() {
	d.notifyReloading()
	defer d.notifyReady()
	d.log.Info("reloading")
	cfg, err := config.Load(d.src)
	if err != nil {
		d.log.Error("invalid configuration: keeping the running one", zap.Error(err))
	} else {
		d.applyConfig(cfg)
	}
	if err := d.parts.policy.Reload(); err != nil {
		d.log.Error("policy reload failed: keeping the previous policy", zap.Error(err))
	}
	if err := d.parts.creds.Reload(); err != nil {
		d.log.Error("credential reload failed: keeping the previous values", zap.Error(err))
		d.parts.metrics.CredentialReload(false)
	} else {
		d.parts.metrics.CredentialReload(true)
	}
	d.parts.masker.SetManaged(secretStrings(d.parts.creds.Values()))
	d.log.Info("reload complete")
}

// applyConfig takes the live-changeable parts of a new configuration.
func (d *daemon) applyConfig(cfg *config.Config) {
	if cfg.Log.Level != d.cfg.Log.Level {
		if err := d.level.UnmarshalText([]byte(cfg.Log.Level)); err == nil {
			d.cfg.Log.Level = cfg.Log.Level
		}
	}
	if targetsChanged(d.cfg.Capture, cfg.Capture) {
		d.cfg.Capture.Targets, d.cfg.Capture.Hosts, d.cfg.Capture.Ports = cfg.Capture.Targets, cfg.Capture.Hosts, cfg.Capture.Ports
		d.parts.selector.stop()
		d.parts.selector = startSelector(d.ctx, captureConfig(d.cfg.Capture), d.parts.capture, d.log)
		d.log.Info("targets reloaded", zap.Strings("targets", cfg.Capture.Targets),
			zap.Strings("hosts", cfg.Capture.Hosts), zap.Ints("ports", cfg.Capture.Ports))
	}
	if cfg.Policy.PolicyPath() != d.cfg.Policy.PolicyPath() || !slices.Equal(names(cfg), names(d.cfg)) {
		d.log.Warn("the policy location or the credential list changed: restart airlockd to apply")
	}
}

func targetsChanged(a, b config.Capture) bool {
	return !slices.Equal(a.Targets, b.Targets) || !slices.Equal(a.Hosts, b.Hosts) || !slices.Equal(a.Ports, b.Ports)
}

func names(c *config.Config) []string {
	var out []string
	for _, cr := range c.Credentials {
		out = append(out, cr.Name)
	}
	return out
}

// healthy is the watchdog's check: the parts that serve requests answer.
func (d *daemon) healthy() error {
	if d.parts.policy.Engine() == nil {
		return errNoPolicy
	}
	_ = d.parts.broker.Count() // takes the broker's lock: a deadlock stops the pings
	return nil
}
