package daemon

import (
	"context"

	"github.com/airlock-dev/airlock/admin"
	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/policy/approval"
)

func (d *Daemon) startAudit(ctx context.Context) error {
	a := d.cfg.Audit
	store, err := audit.Open(ctx, audit.StoreConfig{Path: a.Path, MaxAge: a.MaxAge, MaxBytes: int64(a.MaxSize), Sync: a.Sync, Log: d.log})
	if err != nil {
		return fail("audit store "+a.Path, "make its directory writable, or set audit.path", err)
	}
	d.parts.audit = store
	d.parts.metrics = admin.NewMetrics()
	d.onStop("audit", func(context.Context) error { return store.Close() })
	return nil
}

func (d *Daemon) startApprovals(context.Context) error {
	var hooks []approval.Webhook
	for _, w := range d.cfg.Approvals.Webhooks {
		hooks = append(hooks, approval.Webhook{URL: w.URL, Format: w.Format})
	}
	cfg := approval.Config{Timeout: d.cfg.Approvals.Timeout, Webhooks: hooks, Log: d.log}
	attach := d.centralHooks(&cfg)
	b := approval.NewBroker(cfg)
	attach(b)
	d.parts.broker = b
	d.parts.metrics.SetPendingFunc(b.Count)
	d.onStop("approvals", func(context.Context) error { return b.Close() })
	return nil
}
