package central

import (
	"context"
	"fmt"
	"time"

	"github.com/airlock-dev/airlock/audit"
)

// Usage sums requests and tokens per day (UTC), caller and model across the
// fleet since since, as the local store's Usage does for one host.
func (db *DB) Usage(ctx context.Context, since time.Time) ([]audit.Usage, error) {
	const day = int64(24 * time.Hour)
	rows, err := db.pool.Query(ctx, `SELECT time_ns / $1 AS day, caller_uid, caller_user, caller_exe, model, count(*),
		COALESCE(sum((convert_from(body, 'UTF8')::jsonb->>'input_tokens')::bigint), 0),
		COALESCE(sum((convert_from(body, 'UTF8')::jsonb->>'output_tokens')::bigint), 0)
		FROM records WHERE time_ns >= $2 GROUP BY 1, 2, 3, 4, 5 ORDER BY 1`, day, since.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("summing central usage: %w", err)
	}
	defer rows.Close()
	var out []audit.Usage
	for rows.Next() {
		var u audit.Usage
		var d, uid int64
		var user string
		if err := rows.Scan(&d, &uid, &user, &u.Exe, &u.Model, &u.Requests, &u.InputTokens, &u.OutputTokens); err != nil {
			return nil, fmt.Errorf("summing central usage: %w", err)
		}
		u.Day, u.Caller = time.Unix(0, d*day).UTC(), audit.CallerName(uid, user)
		out = append(out, u)
	}
	return out, rows.Err()
}
