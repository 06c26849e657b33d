package admin

import (
	"context"

	"github.com/airlock-dev/airlock/audit"
)

// ObservingAuditor writes through an audit.Auditor and feeds every record to
// the metrics, so the gateway needs a single call per request.
type ObservingAuditor struct {
	Auditor audit.Auditor
	Metrics *Metrics
}

var _ audit.Auditor = (*ObservingAuditor)(nil)

// Write writes the record, then counts it (even if the write failed: the
// request happened; the failure is counted separately).
func (o *ObservingAuditor) Write(ctx context.Context, rec *audit.Record, rc *audit.Recording) error {
	err := o.Auditor.Write(ctx, rec, rc)
	if err != nil {
		o.Metrics.AuditWriteError()
	}
	o.Metrics.Observe(rec)
	return err
}

// Ready reports the underlying store's readiness.
func (o *ObservingAuditor) Ready() error { return o.Auditor.Ready() }
