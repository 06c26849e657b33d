package central

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/audit"
)

// Source is the local store the shipper reads: audit.Store.
type Source interface {
	Since(ctx context.Context, after int64, limit int) ([]audit.Row, error)
	LastSeq(ctx context.Context) (int64, error)
}

// Shipper copies one host's records from its local store to the central
// database. It never blocks a request: it reads what the store has
// committed, on its own goroutine, and when PostgreSQL is away it retries
// with backoff, resuming from the newest record the database holds for the
// host (so a SIGKILL mid-batch loses nothing and duplicates nothing).
type Shipper struct {
	DB       *DB
	Local    Source
	Host     string
	Batch    int           // records per transaction; 0 = 2000
	Interval time.Duration // poll interval when caught up; 0 = 1s
	Log      *zap.Logger

	shipped  atomic.Int64 // records shipped by this process
	failures atomic.Int64 // failed attempts
	headSeq  atomic.Int64 // newest sequence number known to be central
	pending  atomic.Int64 // local records not yet central
	oldestNS atomic.Int64 // time of the oldest record not yet shipped (0: none pending)
}

// ShipperStats feed the shipping metrics.
type ShipperStats struct {
	Shipped  int64         `json:"shipped"`
	Failures int64         `json:"failures"`
	Pending  int64         `json:"pending"` // local records not yet shipped
	HeadSeq  int64         `json:"head_seq"`
	Lag      time.Duration `json:"lag_ns"` // age of the oldest record waiting to be shipped
}

// Stats reports progress.
func (s *Shipper) Stats() ShipperStats {
	st := ShipperStats{Shipped: s.shipped.Load(), Failures: s.failures.Load(), HeadSeq: s.headSeq.Load(), Pending: s.pending.Load()}
	if ns := s.oldestNS.Load(); ns > 0 {
		st.Lag = time.Since(time.Unix(0, ns))
	}
	return st
}

// drainTimeout bounds the last shipment when the daemon stops.
const drainTimeout = 5 * time.Second

// Run ships until ctx ends, then ships what is left for a few seconds more
// (a daemon that stops on purpose leaves nothing waiting it could have sent;
// what it could not send waits in the local store for the next start).
func (s *Shipper) Run(ctx context.Context) error {
	s.defaults()
	backoff := time.Duration(0)
	cursor := int64(-1) // unknown: ask the database
	for {
		n, err := s.step(ctx, &cursor)
		switch {
		case ctx.Err() != nil:
			s.drain(cursor)
			return nil
		case err != nil:
			s.failures.Add(1)
			cursor = -1
			backoff = nextBackoff(backoff)
			s.Log.Warn("shipping audit records to the central database failed; retrying", zap.Duration("in", backoff), zap.Error(err))
			sleep(ctx, backoff)
		case n == 0:
			backoff = 0
			sleep(ctx, s.Interval)
		default:
			backoff = 0
		}
	}
}

func (s *Shipper) drain(cursor int64) {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	for {
		if n, err := s.step(ctx, &cursor); err != nil || n == 0 {
			return
		}
	}
}

func (s *Shipper) defaults() {
	if s.Batch <= 0 {
		s.Batch = 2000
	}
	if s.Interval <= 0 {
		s.Interval = time.Second
	}
	if s.Log == nil {
		s.Log = zap.NewNop()
	}
	s.Log = s.Log.Named("central")
}

// step ships one batch and returns how many records it shipped.
func (s *Shipper) step(ctx context.Context, cursor *int64) (int, error) {
	if *cursor < 0 {
		head, err := s.DB.HeadSeq(ctx, s.Host)
		if err != nil {
			return 0, err
		}
		*cursor = head
		s.headSeq.Store(head)
	}
	if last, err := s.Local.LastSeq(ctx); err == nil {
		s.pending.Store(max(last-*cursor, 0))
	}
	rows, err := s.Local.Since(ctx, *cursor, s.Batch)
	if err != nil || len(rows) == 0 {
		s.oldestNS.Store(0)
		return 0, err
	}
	s.oldestNS.Store(rows[0].TimeNS)
	if err := s.DB.Insert(ctx, s.Host, rows); err != nil {
		return 0, err
	}
	last := rows[len(rows)-1].Seq
	*cursor = last
	s.headSeq.Store(last)
	s.shipped.Add(int64(len(rows)))
	return len(rows), nil
}

// nextBackoff doubles up to 10 s, with jitter so a fleet does not reconnect in step.
func nextBackoff(d time.Duration) time.Duration {
	d = min(max(2*d, 250*time.Millisecond), 10*time.Second)
	return d/2 + rand.N(d/2)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// HeadSeq is the newest sequence number stored for host (0: none).
func (db *DB) HeadSeq(ctx context.Context, host string) (int64, error) {
	var seq int64
	err := db.pool.QueryRow(ctx, `SELECT COALESCE(max(seq), 0) FROM records WHERE host = $1`, host).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("reading the central head of %s: %w", host, err)
	}
	return seq, nil
}

// Insert stores rows of host in one transaction. A row already stored (same
// host and sequence number) is left as it is: shipping twice is harmless,
// and a row edited centrally is not "repaired" into hiding the edit. Rows go
// through COPY into a temporary table (the binary protocol, no per-row
// statement), then into records with ON CONFLICT DO NOTHING.
func (db *DB) Insert(ctx context.Context, host string, rows []audit.Row) error {
	if len(rows) == 0 {
		return errors.New("central insert: no rows")
	}
	last := rows[len(rows)-1]
	return db.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO hosts (host) VALUES ($1) ON CONFLICT DO NOTHING`, host); err != nil {
			return fmt.Errorf("registering host %s: %w", host, err)
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE incoming (LIKE records) ON COMMIT DROP`); err != nil {
			return fmt.Errorf("preparing to store records of %s: %w", host, err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"incoming"}, recordColumns, copySource(host, rows)); err != nil {
			return fmt.Errorf("copying %d records of %s: %w", len(rows), host, err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO records SELECT * FROM incoming ON CONFLICT (host, seq) DO NOTHING`)
		if err != nil {
			return fmt.Errorf("storing %d records of %s: %w", len(rows), host, err)
		}
		_, err = tx.Exec(ctx, `UPDATE hosts SET head_seq = $2, head_hash = $3, shipped_at = now()
			WHERE host = $1 AND head_seq < $2`, host, last.Seq, last.Hash)
		return err
	})
}

var recordColumns = []string{"host", "seq", "time_ns", "session_id", "caller_uid", "caller_user", "caller_exe",
	"model", "decision", "body", "prev_hash", "hash", "recording"}

func copySource(host string, rows []audit.Row) pgx.CopyFromSource {
	return pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		r := rows[i]
		return []any{host, r.Seq, r.TimeNS, r.Session, r.UID, r.User, r.Exe, r.Model, r.Decision, r.Body,
			r.PrevHash, r.Hash, r.Recording}, nil
	})
}
