package central

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Prune removes records older than before from every host's central chain,
// leaving each host a checkpoint (the first sequence number kept and the hash
// it chains to) so Verify still checks what remains. Local stores keep their
// own retention (audit.max_age).
func (db *DB) Prune(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	err := db.tx(ctx, func(tx pgx.Tx) error {
		// The newest pruned record of each host becomes its checkpoint.
		_, err := tx.Exec(ctx, `INSERT INTO checkpoints (host, first_seq, prev_hash, pruned)
			SELECT DISTINCT ON (host) host, seq + 1, hash, 0 FROM records WHERE time_ns < $1 ORDER BY host, seq DESC
			ON CONFLICT (host) DO UPDATE SET first_seq = EXCLUDED.first_seq, prev_hash = EXCLUDED.prev_hash`, before.UnixNano())
		if err != nil {
			return fmt.Errorf("writing central checkpoints: %w", err)
		}
		rows, err := tx.Query(ctx, `WITH d AS (DELETE FROM records r USING checkpoints c
				WHERE r.host = c.host AND r.seq < c.first_seq RETURNING r.host)
			UPDATE checkpoints c SET pruned = c.pruned + x.n FROM (SELECT host, count(*) AS n FROM d GROUP BY host) x
			WHERE c.host = x.host RETURNING x.n`)
		if err != nil {
			return fmt.Errorf("pruning central records: %w", err)
		}
		counts, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		for _, n := range counts {
			total += n
		}
		return err
	})
	return total, err
}
