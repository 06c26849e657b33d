package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/audit/central"
	"github.com/airlock-dev/airlock/policy/approval"
)

// Central serves a fleet: the holds every host published and the records
// every host shipped to the central PostgreSQL store.
func Central(db *central.DB) (Queue, Source) {
	return centralQueue{db}, centralSource{db}
}

type centralQueue struct{ db *central.DB }

func (q centralQueue) List(ctx context.Context) ([]Held, error) {
	open, err := q.db.Approvals(ctx, "", true)
	if err != nil {
		return nil, err
	}
	out := make([]Held, 0, len(open))
	for _, a := range open {
		out = append(out, Held{Host: a.Host, Pending: approval.Pending{ID: a.ID, Created: a.Created, Expires: a.Expires,
			Request: approval.Request{Caller: a.Caller, Rule: a.Rule, Reason: a.Reason, Method: a.Method, Path: a.Path,
				Model: a.Model, Summary: a.Summary}}})
	}
	return out, nil
}

// Approve and Deny are recorded centrally; the holding host applies them
// within a second (LISTEN/NOTIFY, polling as the fallback).
func (q centralQueue) Approve(ctx context.Context, id, by, reason string, window time.Duration) error {
	return q.db.Decide(ctx, id, central.DecisionApprove, by, reason, window)
}

func (q centralQueue) Deny(ctx context.Context, id, by, reason string) error {
	return q.db.Decide(ctx, id, central.DecisionDeny, by, reason, 0)
}

type centralSource struct{ db *central.DB }

func (s centralSource) List(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	return s.db.List(ctx, f)
}

// Export writes the search as JSON lines, oldest first, host included.
func (s centralSource) Export(ctx context.Context, f audit.Filter, w io.Writer) error {
	recs, err := s.db.List(ctx, f)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			return fmt.Errorf("exporting central records: %w", err)
		}
	}
	return nil
}

func (s centralSource) Entry(ctx context.Context, host string, id int64) (audit.Entry, error) {
	return s.db.Entry(ctx, host, id)
}

func (s centralSource) Chain(ctx context.Context, host string, id int64) (audit.VerifyReport, error) {
	return s.db.VerifyAround(ctx, host, id)
}

func (s centralSource) Sessions(ctx context.Context, f audit.SessionFilter) ([]audit.Session, error) {
	return s.db.Sessions(ctx, f)
}

func (s centralSource) Session(ctx context.Context, id string) (audit.SessionDetail, error) {
	return s.db.Session(ctx, id)
}

func (s centralSource) Usage(ctx context.Context, since time.Time) ([]audit.Usage, error) {
	return s.db.Usage(ctx, since)
}
