package daemon

import (
	"slices"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/internal/config"
)

// Reload is SIGHUP: apply what can change live from next — log level,
// targets (CIDRs, host names, ports) — then re-read the policy file and the
// credential values. next is nil when the new configuration was invalid:
// the running one stays, and the policy and credentials are still re-read.
// Anything invalid keeps what is running, and says why.
func (d *Daemon) Reload(next *config.Config) {
	d.log.Info("reloading")
	if next != nil {
		d.applyConfig(next)
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
	d.log.Info("reload complete")
}

// applyConfig takes the live-changeable parts of a new configuration.
func (d *Daemon) applyConfig(cfg *config.Config) {
	d.live.Lock()
	defer d.live.Unlock()
	if cfg.Log.Level != d.cfg.Log.Level {
		if err := d.opts.Level.UnmarshalText([]byte(cfg.Log.Level)); err == nil {
			d.cfg.Log.Level = cfg.Log.Level
		}
	}
	if targetsChanged(d.cfg.Capture, cfg.Capture) {
		d.cfg.Capture.Targets, d.cfg.Capture.Hosts, d.cfg.Capture.Ports = cfg.Capture.Targets, cfg.Capture.Hosts, cfg.Capture.Ports
		if d.parts.capture != nil {
			d.parts.capture.Retarget(prefixes(cfg.Capture.Targets), cfg.Capture.Hosts, ports(cfg.Capture.Ports))
		}
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

// Healthy is the watchdog's check: the parts that serve requests answer.
func (d *Daemon) Healthy() error {
	if d.parts.policy.Engine() == nil {
		return errNoPolicy
	}
	_ = d.parts.broker.Count() // takes the broker's lock: a deadlock stops the pings
	return nil
}
