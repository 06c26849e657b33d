package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"go.uber.org/zap"
)

// Checkpoint marks where retention cut the chain: the first kept record must
// chain to PrevHash. Verify starts from the newest checkpoint, so pruning
// never looks like tampering, while deleting old records without one does.
type Checkpoint struct {
	FirstSeq int64  `json:"first_seq"`
	PrevHash string `json:"prev_hash"`
	Pruned   int64  `json:"pruned"`
}

func (s *Store) pruneLogged() {
	ctx, cancel := context.WithTimeout(context.Background(), maxWriteWait)
	defer cancel()
	if err := s.prune(ctx); err != nil {
		s.log.Error("pruning audit store", zap.Error(err))
	}
}

// prune applies MaxAge and MaxBytes, oldest records first. It never touches
// the chain head, so it may run beside the writer.
func (s *Store) prune(ctx context.Context) error {
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()
	cut, err := s.cutoff(ctx)
	if err != nil || cut == 0 {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("pruning: %w", err)
	}
	defer tx.Rollback()
	var prev string
	var n, freed int64
	if err := tx.QueryRowContext(ctx, `SELECT hash, (SELECT COUNT(*) FROM records WHERE seq <= ?),
		(SELECT COALESCE(SUM(size), 0) FROM records WHERE seq <= ?) FROM records WHERE seq = ?`, cut, cut, cut).Scan(&prev, &n, &freed); err != nil {
		return fmt.Errorf("pruning: reading cut point %d: %w", cut, err)
	}
	for _, q := range []string{`DELETE FROM recordings WHERE seq <= ?`, `DELETE FROM records WHERE seq <= ?`} {
		if _, err := tx.ExecContext(ctx, q, cut); err != nil {
			return fmt.Errorf("pruning: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints(time_ns, first_seq, prev_hash, pruned) VALUES (?,?,?,?)`,
		nanos(s.cfg.Now()), cut+1, prev, n); err != nil {
		return fmt.Errorf("pruning: recording checkpoint: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("pruning: %w", err)
	}
	s.size.Add(-freed)
	s.log.Info("pruned audit records", zap.Int64("through_seq", cut), zap.Int64("count", n), zap.Int64("bytes", freed))
	return nil
}

// cutoff is the newest seq to delete (0: nothing to prune).
func (s *Store) cutoff(ctx context.Context) (int64, error) {
	var cut int64
	if s.cfg.MaxAge > 0 {
		limit := nanos(s.cfg.Now().Add(-s.cfg.MaxAge))
		// By the time index, SQLite reads only the records to delete; left to
		// itself it walked back through every newer one to find the first.
		if err := s.maxSeq(ctx, &cut, `SELECT MAX(seq) FROM records INDEXED BY records_usage WHERE time_ns < ?`, limit); err != nil {
			return 0, err
		}
	}
	if excess := s.size.Load() - s.cfg.MaxBytes; s.cfg.MaxBytes > 0 && excess > 0 {
		bySize, err := s.oldestCovering(ctx, excess)
		if err != nil {
			return 0, err
		}
		cut = max(cut, bySize)
	}
	return cut, nil
}

// oldestCovering is the newest seq to delete so that the records left fit
// the size bound: the oldest records, as many as their sizes take to reach
// excess. It reads only those. (Summing the sizes of every newer record on
// each pass, as this once did, read the whole table every thousand writes:
// a fifth of the daemon's CPU once it held 60,000 records.)
func (s *Store) oldestCovering(ctx context.Context, excess int64) (int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, size FROM records ORDER BY seq`)
	if err != nil {
		return 0, fmt.Errorf("finding records to prune: %w", err)
	}
	defer rows.Close()
	var cut, freed int64
	for freed < excess && rows.Next() {
		var size int64
		if err := rows.Scan(&cut, &size); err != nil {
			return 0, fmt.Errorf("finding records to prune: %w", err)
		}
		freed += size
	}
	return cut, rows.Err()
}

// countSize sums the sizes of the records the store holds, once at Open.
func (s *Store) countSize(ctx context.Context) error {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(size), 0) FROM records`).Scan(&n); err != nil {
		return fmt.Errorf("sizing the audit store %s: %w", s.cfg.Path, err)
	}
	s.size.Store(n)
	return nil
}

func (s *Store) maxSeq(ctx context.Context, dst *int64, q string, arg any) error {
	var v sql.NullInt64
	if err := s.db.QueryRowContext(ctx, q, arg).Scan(&v); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("finding records to prune: %w", err)
	}
	*dst = v.Int64
	return nil
}

// Prune applies retention now (it also runs on its own every minute and every
// thousand writes).
func (s *Store) Prune(ctx context.Context) error {
	return s.prune(ctx)
}
