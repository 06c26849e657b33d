package audit

import "context"

// Auditor is what the gateway writes records through: *Store satisfies it, and
// admin.ObservingAuditor wraps it to feed metrics.
type Auditor interface {
	Write(ctx context.Context, rec *Record, rc *Recording) error
	Ready() error
}

var _ Auditor = (*Store)(nil)

// Spooled is s as the gateway writes through it: Write is s.Append, so a
// response waits for its record to be in the spool (safe from a crash of the
// daemon), not for the group commit that chains it.
func (s *Store) Spooled() Auditor { return spooled{s} }

type spooled struct{ s *Store }

func (p spooled) Write(ctx context.Context, rec *Record, rc *Recording) error {
	return p.s.Append(ctx, rec, rc)
}

func (p spooled) Ready() error { return p.s.Ready() }
