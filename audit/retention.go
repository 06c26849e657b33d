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
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT hash, (SELECT COUNT(*) FROM records WHERE seq <= ?) FROM records WHERE seq = ?`, cut, cut).Scan(&prev, &n); err != nil {
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
	s.log.Info("pruned audit records", zap.Int64("through_seq", cut), zap.Int64("count", n))
	return tx.Commit()
}

// cutoff is the newest seq to delete (0: nothing to prune).
func (s *Store) cutoff(ctx context.Context) (int64, error) {
	var cut int64
	if s.cfg.MaxAge > 0 {
		limit := nanos(s.cfg.Now().Add(-s.cfg.MaxAge))
		if err := s.maxSeq(ctx, &cut, `SELECT MAX(seq) FROM records WHERE time_ns < ?`, limit); err != nil {
			return 0, err
		}
	}
	if s.cfg.MaxBytes > 0 {
		var bySize int64
		q := `SELECT MAX(seq) FROM (SELECT seq, SUM(size) OVER (ORDER BY seq DESC) AS newer FROM records) WHERE newer > ?`
		if err := s.maxSeq(ctx, &bySize, q, s.cfg.MaxBytes); err != nil {
			return 0, err
		}
		cut = max(cut, bySize)
	}
	return cut, nil
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
