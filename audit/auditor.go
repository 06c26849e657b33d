package audit

import "context"

// Auditor is what the gateway writes records through: *Store satisfies it, and
// admin.ObservingAuditor wraps it to feed metrics.
type Auditor interface {
	Write(ctx context.Context, rec *Record, rc *Recording) error
	Ready() error
}

var _ Auditor = (*Store)(nil)
