package daemon

import (
	"context"
	"os"

	"github.com/airlock-dev/airlock/audit/central"
	"github.com/airlock-dev/airlock/policy/approval"
)

// newCentral prepares this daemon's link to its fleet's PostgreSQL when
// audit.central.url is set; startFleet connects it once the approval broker
// exists. Neither delays the start or a request: the connection is made
// (and remade) in the background while records wait in the local store.
func (d *Daemon) newCentral(context.Context) error {
	c := d.cfg.Audit.Central
	if c.URL == "" {
		return nil
	}
	host := c.HostID
	if host == "" {
		host, _ = os.Hostname()
	}
	m := central.NewMember(central.Config{URL: c.URL, PasswordFile: c.PasswordFile}, host, d.parts.audit, d.log)
	d.parts.central = m
	d.parts.metrics.Register(m.Collector())
	return nil
}

// centralHooks relays holds and decisions when approvals.central is on.
func (d *Daemon) centralHooks(cfg *approval.Config) func(*approval.Broker) {
	if !d.cfg.Approvals.Central || d.parts.central == nil {
		return func(*approval.Broker) {}
	}
	var relay *central.Relay
	cfg.OnPending = func(p approval.Pending) { relay.Announce(p) }
	cfg.OnDecided = func(o approval.Outcome) { relay.Settled(o) }
	return func(b *approval.Broker) { relay = d.parts.central.Relay(b) }
}

func (d *Daemon) startFleet(ctx context.Context) error {
	m := d.parts.central
	if m == nil {
		return nil
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.Start(runCtx)
	d.onStop("central", func(context.Context) error { cancel(); m.Wait(); return nil })
	return nil
}
