package central

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/policy/approval"
)

// notifyChannel carries the id of each decided approval.
const notifyChannel = "airlock_approvals"

// Decisions stored in approvals.decision.
const (
	DecisionApprove = "approve"
	DecisionDeny    = "deny"
	DecisionTimeout = "timeout"
)

// Approval is a held request as published centrally.
type Approval struct {
	ID        string         `json:"id"`
	Host      string         `json:"host"`
	Caller    caller.Process `json:"caller"`
	Rule      string         `json:"rule"`
	Reason    string         `json:"reason"`
	Method    string         `json:"method"`
	Path      string         `json:"path"`
	Model     string         `json:"model"`
	Summary   string         `json:"summary"`
	Created   time.Time      `json:"created"`
	Expires   time.Time      `json:"expires"`
	Decision  string         `json:"decision,omitempty"`
	DecidedBy string         `json:"decided_by,omitempty"`
	Note      string         `json:"note,omitempty"`
	Window    time.Duration  `json:"window_ns,omitempty"`
}

// Publish announces a hold of host.
func (db *DB) Publish(ctx context.Context, host string, p approval.Pending) error {
	who, err := json.Marshal(p.Request.Caller)
	if err != nil {
		return fmt.Errorf("encoding the caller of approval %s: %w", p.ID, err)
	}
	q := p.Request
	_, err = db.pool.Exec(ctx, `INSERT INTO approvals (id, host, caller, rule, reason, method, path, model, summary, digest,
		created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING`,
		p.ID, host, who, q.Rule, q.Reason, q.Method, q.Path, q.Model, q.Summary, q.Digest, p.Created, p.Expires)
	if err != nil {
		return fmt.Errorf("publishing approval %s: %w", p.ID, err)
	}
	return nil
}

// Decide records an operator's decision from anywhere. Decisions are
// single-use and deny wins: a denial may replace an approval the holding
// daemon has not acted on yet, nothing else replaces a decision. by names the
// operator; empty means the database role. The database cannot check a name
// it is given (anyone who may decide may type any name), so a name other
// than the role is recorded with the role that wrote it: "alice (as
// database role reviewers)" cannot be passed off as another role's decision.
func (db *DB) Decide(ctx context.Context, id, decision, by, note string, window time.Duration) error {
	if decision != DecisionApprove && decision != DecisionDeny {
		return fmt.Errorf("approval decision %q: want approve or deny", decision)
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE approvals SET decision = $2, decided_by = CASE WHEN $3 IN ('', current_user) THEN current_user
			ELSE $3 || ' (as database role ' || current_user || ')' END,
			decided_at = now(), note = $4, window_ns = $5
			WHERE id = $1 AND expires_at > now() AND (decision IS NULL OR ($2 = 'deny' AND decision = 'approve' AND NOT applied))`,
			id, decision, by, note, window.Nanoseconds())
		if err != nil {
			return fmt.Errorf("deciding approval %s: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return db.whyNotDecided(ctx, tx, id)
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, notifyChannel, id)
		return err
	})
}

// whyNotDecided tells an unknown approval from one decided already.
func (db *DB) whyNotDecided(ctx context.Context, tx pgx.Tx, id string) error {
	var decision, by *string
	var expired bool
	err := tx.QueryRow(ctx, `SELECT decision, decided_by, expires_at <= now() FROM approvals WHERE id = $1`, id).
		Scan(&decision, &by, &expired)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("approval %q: %w", id, approval.ErrNotFound)
	case err != nil:
		return fmt.Errorf("reading approval %s: %w", id, err)
	case decision != nil:
		return fmt.Errorf("approval %q was already decided (%s by %s): %w", id, *decision, deref(by), approval.ErrDecided)
	case expired:
		return fmt.Errorf("approval %q expired before the decision: %w", id, approval.ErrDecided)
	}
	return fmt.Errorf("approval %q: %w", id, approval.ErrDecided)
}

func deref(s *string) string {
	if s == nil {
		return "?"
	}
	return *s
}

// Settle records how a hold ended on its host (a local decision or the
// timeout), unless a central decision came first.
func (db *DB) Settle(ctx context.Context, out approval.Outcome) error {
	decision := DecisionDeny
	switch {
	case out.TimedOut:
		decision = DecisionTimeout
	case out.Approved:
		decision = DecisionApprove
	}
	_, err := db.pool.Exec(ctx, `UPDATE approvals SET decision = COALESCE(decision, $2),
		decided_by = COALESCE(decided_by, $3), decided_at = COALESCE(decided_at, now()), applied = true WHERE id = $1`,
		out.ID, decision, out.Approver)
	if err != nil {
		return fmt.Errorf("settling approval %s: %w", out.ID, err)
	}
	return nil
}

// Approvals lists holds: open ones only, or all, of one host or every host.
func (db *DB) Approvals(ctx context.Context, host string, openOnly bool) ([]Approval, error) {
	return db.queryApprovals(ctx, `($1 = '' OR host = $1) AND (NOT $2 OR (decision IS NULL AND expires_at > now()))`,
		host, openOnly)
}

// decided returns host's decisions that its daemon has not acted on yet.
func (db *DB) decided(ctx context.Context, host string) ([]Approval, error) {
	return db.queryApprovals(ctx, `host = $1 AND decision IN ('approve', 'deny') AND NOT applied`, host)
}

func (db *DB) queryApprovals(ctx context.Context, where string, args ...any) ([]Approval, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, host, caller, rule, reason, method, path, model, summary, created_at,
		expires_at, COALESCE(decision, ''), COALESCE(decided_by, ''), COALESCE(note, ''), window_ns FROM approvals
		WHERE `+where+` ORDER BY created_at`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading central approvals: %w", err)
	}
	return pgx.CollectRows(rows, scanApproval)
}

func scanApproval(row pgx.CollectableRow) (Approval, error) {
	var a Approval
	var who []byte
	var window int64
	err := row.Scan(&a.ID, &a.Host, &who, &a.Rule, &a.Reason, &a.Method, &a.Path, &a.Model, &a.Summary,
		&a.Created, &a.Expires, &a.Decision, &a.DecidedBy, &a.Note, &window)
	if err == nil {
		err = json.Unmarshal(who, &a.Caller)
	}
	a.Window = time.Duration(window)
	return a, err
}

// markApplied claims decision for the holding daemon; false means the
// decision changed meanwhile (a denial replaced an approval).
func (db *DB) markApplied(ctx context.Context, id, decision string) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE approvals SET applied = true WHERE id = $1 AND decision = $2 AND NOT applied`, id, decision)
	if err != nil {
		return false, fmt.Errorf("claiming approval %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}
