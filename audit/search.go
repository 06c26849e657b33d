package audit

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// searchColumns are virtual columns over the canonical body for the filters
// that have no column of their own (the console searches by rule and status).
// Being generated, they need no change to the write path and always agree
// with the hashed body; their indexes keep a search over 100,000 records fast.
var searchColumns = []struct{ name, expr string }{
	{"rule", `json_extract(CAST(body AS TEXT), '$.rule')`},
	{"status", `json_extract(CAST(body AS TEXT), '$.status')`},
	{"input_tokens", `json_extract(CAST(body AS TEXT), '$.input_tokens')`},
	{"output_tokens", `json_extract(CAST(body AS TEXT), '$.output_tokens')`},
	// the executable's base name: what is left after the last "/"
	{"exe_name", `replace(caller_exe, rtrim(caller_exe, replace(caller_exe, '/', '')), '')`},
}

// indexes serve the search (rule, status) and the usage sums: the usage
// index covers its query, so summing reads the index, not 100,000 bodies.
var searchIndexes = []string{
	`CREATE INDEX IF NOT EXISTS records_rule ON records(rule, seq)`,
	`CREATE INDEX IF NOT EXISTS records_status ON records(status, seq)`,
	`CREATE INDEX IF NOT EXISTS records_uid ON records(caller_uid, seq)`,
	`CREATE INDEX IF NOT EXISTS records_user ON records(caller_user, seq)`,
	`CREATE INDEX IF NOT EXISTS records_exe ON records(caller_exe, seq)`,
	`CREATE INDEX IF NOT EXISTS records_exe_name ON records(exe_name, seq)`,
	`CREATE INDEX IF NOT EXISTS records_usage ON records(time_ns, caller_uid, caller_user, caller_exe, model, input_tokens, output_tokens)`,
}

// addSearchColumns upgrades a store created before the search columns existed.
func addSearchColumns(ctx context.Context, db *sql.DB) error {
	have, err := columns(ctx, db, "records")
	if err != nil {
		return err
	}
	for _, c := range searchColumns {
		if !have[c.name] {
			q := fmt.Sprintf(`ALTER TABLE records ADD COLUMN %s GENERATED ALWAYS AS (%s) VIRTUAL`, c.name, c.expr)
			if _, err := db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("adding the audit search column %s: %w", c.name, err)
			}
		}
	}
	for _, q := range searchIndexes {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("indexing the audit search columns: %w", err)
		}
	}
	return nil
}

func columns(ctx context.Context, db *sql.DB, table string) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_xinfo(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("reading the columns of %s: %w", table, err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("reading the columns of %s: %w", table, err)
		}
		have[name] = true
	}
	return have, rows.Err()
}

// Usage is the traffic of one caller with one model on one day (UTC).
type Usage struct {
	Day          time.Time `json:"day"`
	Caller       string    `json:"caller"` // the user name, or uid:N
	Exe          string    `json:"exe"`
	Model        string    `json:"model"`
	Requests     int64     `json:"requests"`
	InputTokens  int64     `json:"input_tokens"`
	OutputTokens int64     `json:"output_tokens"`
}

const dayNS = int64(24 * time.Hour)

// Usage sums requests and tokens per day, caller and model since since.
func (s *Store) Usage(ctx context.Context, since time.Time) ([]Usage, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT time_ns / ? AS day, caller_uid, caller_user, caller_exe, model, COUNT(*),
		SUM(input_tokens), SUM(output_tokens) FROM records INDEXED BY records_usage WHERE time_ns >= ? GROUP BY day, caller_uid, caller_user, caller_exe, model ORDER BY day`,
		dayNS, nanos(since))
	if err != nil {
		return nil, fmt.Errorf("summing audit usage: %w", err)
	}
	defer rows.Close()
	var out []Usage
	for rows.Next() {
		var u Usage
		var day, uid int64
		var user string
		var in, outTok sql.NullInt64
		if err := rows.Scan(&day, &uid, &user, &u.Exe, &u.Model, &u.Requests, &in, &outTok); err != nil {
			return nil, fmt.Errorf("summing audit usage: %w", err)
		}
		u.Day, u.Caller = time.Unix(0, day*dayNS).UTC(), CallerName(uid, user)
		u.InputTokens, u.OutputTokens = in.Int64, outTok.Int64
		out = append(out, u)
	}
	return out, rows.Err()
}

// CallerName is how a caller is shown: its user name, or uid:N without one.
func CallerName(uid int64, user string) string {
	if user != "" {
		return user
	}
	return fmt.Sprintf("uid:%d", uid)
}
