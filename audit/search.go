package audit

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// searchColumns are the filters that have no column in the base schema (the
// console searches by rule, status and the executable's base name; usage
// sums tokens). They are plain columns written by the insert from the Record
// it is committing (searchValues), so an insert parses no JSON; verify checks
// each against the hashed body, so editing one to hide a record is named.
// fill is how a migrated store computes them for the rows it already holds.
var searchColumns = []struct{ name, typ, fill string }{
	{"rule", "TEXT", `json_extract(CAST(body AS TEXT), '$.rule')`},
	{"status", "INTEGER", `json_extract(CAST(body AS TEXT), '$.status')`},
	{"input_tokens", "INTEGER", `json_extract(CAST(body AS TEXT), '$.input_tokens')`},
	{"output_tokens", "INTEGER", `json_extract(CAST(body AS TEXT), '$.output_tokens')`},
	// the executable's base name: what is left after the last "/" (exeName)
	{"exe_name", "TEXT", `replace(caller_exe, rtrim(caller_exe, replace(caller_exe, '/', '')), '')`},
}

// searchValues are rec's values of searchColumns, in their order.
func searchValues(rec *Record) []any {
	return []any{rec.Rule, rec.Status, rec.InputTokens, rec.OutputTokens, exeName(rec.Caller.Exe)}
}

func exeName(exe string) string { return exe[strings.LastIndexByte(exe, '/')+1:] }

// searchIndexes serve the search (rule, status, caller) and the usage sums:
// the usage index covers its query, so summing reads the index, not 100,000
// bodies. It also serves time ranges (time_ns leads it), so there is no
// index on time alone: each index is a B-tree insert and its pages in the
// WAL on every commit.
var searchIndexes = []string{
	`CREATE INDEX IF NOT EXISTS records_rule ON records(rule, seq)`,
	`CREATE INDEX IF NOT EXISTS records_status ON records(status, seq)`,
	`CREATE INDEX IF NOT EXISTS records_uid ON records(caller_uid, seq)`,
	`CREATE INDEX IF NOT EXISTS records_user ON records(caller_user, seq)`,
	`CREATE INDEX IF NOT EXISTS records_exe ON records(caller_exe, seq)`,
	`CREATE INDEX IF NOT EXISTS records_exe_name ON records(exe_name, seq)`,
	`CREATE INDEX IF NOT EXISTS records_usage ON records(time_ns, caller_uid, caller_user, caller_exe, model, input_tokens, output_tokens)`,
	`DROP INDEX IF EXISTS records_time`,
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
