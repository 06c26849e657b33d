package daemon

import (
	"context"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/intercept"
)

// captureAuditor records capture's relays and refusals in the audit, so a
// connection to the API's addresses that never became a request still
// leaves a record naming its caller, SNI and destination.
type captureAuditor struct {
	audit audit.Auditor
}

// Report writes one record; its error refuses a relay (fail closed).
func (c captureAuditor) Report(ctx context.Context, d intercept.Decision) error {
	o := d.Origin
	rec := &audit.Record{Time: o.Accepted, RequestID: o.ConnID, Caller: o.Process, SNI: o.SNI,
		Decision: d.Kind, Rule: "capture", Reason: d.Reason, EmbeddedClass: "none"}
	if o.Dst.IsValid() {
		rec.Dst = o.Dst.String()
	}
	return c.audit.Write(ctx, rec, nil)
}
