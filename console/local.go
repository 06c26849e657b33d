package console

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/policy/approval"
)

// Local serves one host: its approval broker and its audit store.
func Local(b *approval.Broker, st *audit.Store, host string) (Queue, Source) {
	return localQueue{b: b, host: host}, localSource{Store: st, host: host}
}

type localQueue struct {
	b    *approval.Broker
	host string
}

func (q localQueue) List(context.Context) ([]Held, error) {
	var out []Held
	for _, p := range q.b.List() {
		out = append(out, Held{Pending: p, Host: q.host})
	}
	return out, nil
}

func (q localQueue) Approve(_ context.Context, id, by, reason string, window time.Duration) error {
	return q.b.Approve(id, by, reason, window)
}

func (q localQueue) Deny(_ context.Context, id, by, reason string) error {
	return q.b.Deny(id, by, reason)
}

type localSource struct {
	*audit.Store
	host string
}

// List narrows to nothing when the search names another host.
func (s localSource) List(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	if f.Host != "" && f.Host != s.host {
		return nil, nil
	}
	f.Host = ""
	recs, err := s.Store.List(ctx, f)
	for i := range recs {
		recs[i].Host = s.host
	}
	return recs, err
}

func (s localSource) Export(ctx context.Context, f audit.Filter, w io.Writer) error {
	if f.Host != "" && f.Host != s.host {
		return nil
	}
	f.Host = ""
	return s.Store.Export(ctx, f, w)
}

func (s localSource) Entry(ctx context.Context, host string, id int64) (audit.Entry, error) {
	if host != "" && host != s.host {
		return audit.Entry{}, fmt.Errorf("record %d of host %q: %w (this console serves %s)", id, host, audit.ErrNotFound, s.host)
	}
	rec, err := s.Get(ctx, id)
	if err != nil {
		return audit.Entry{}, err
	}
	rec.Host = s.host
	e := audit.Entry{Record: rec}
	if rec.RecordingHash != "" {
		e.Recording, err = s.Recording(ctx, id)
	}
	return e, err
}

func (s localSource) Chain(ctx context.Context, _ string, id int64) (audit.VerifyReport, error) {
	return s.VerifyAround(ctx, id)
}
