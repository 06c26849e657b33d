package central

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/airlock-dev/airlock/audit"
)

// List returns the records that f selects across the fleet (f.Host narrows
// it to one host), oldest first; with f.Limit, the newest Limit of them.
func (db *DB) List(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	where, args := centralWhere(f)
	q := `SELECT host, seq, body, prev_hash, hash FROM records` + where + ` ORDER BY time_ns, host, seq`
	if f.Limit > 0 {
		q = `SELECT * FROM (SELECT host, seq, body, prev_hash, hash, time_ns FROM records` + where +
			` ORDER BY time_ns DESC, host, seq DESC LIMIT ` + strconv.Itoa(f.Limit) + `) t ORDER BY time_ns, host, seq`
	}
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("querying central audit records: %w", err)
	}
	defer rows.Close()
	var out []audit.Record
	for rows.Next() {
		var r audit.Row
		var host string
		dest := []any{&host, &r.Seq, &r.Body, &r.PrevHash, &r.Hash}
		if f.Limit > 0 {
			dest = append(dest, &r.TimeNS)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("reading central audit records: %w", err)
		}
		rec, err := r.Record()
		if err != nil {
			return nil, err
		}
		rec.Host = host
		out = append(out, rec)
	}
	return out, rows.Err()
}

// centralWhere is audit.Filter as PostgreSQL conditions.
func centralWhere(f audit.Filter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) {
		for _, v := range a {
			args = append(args, v)
			cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1)
		}
		conds = append(conds, cond)
	}
	if !f.Since.IsZero() {
		add("time_ns >= ?", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		add("time_ns < ?", f.Until.UnixNano())
	}
	if f.Caller != "" {
		uid, err := strconv.ParseInt(f.Caller, 10, 64)
		if err != nil {
			uid = -1
		}
		add("(caller_uid = ? OR caller_user = ? OR caller_exe = ? OR caller_exe LIKE ?)", uid, f.Caller, f.Caller, "%/"+f.Caller)
	}
	if f.Rule != "" {
		add("convert_from(body, 'UTF8')::jsonb->>'rule' = ?", f.Rule)
	}
	if f.Status != 0 {
		add("(convert_from(body, 'UTF8')::jsonb->>'status')::int = ?", f.Status)
	}
	for col, v := range map[string]string{"host": f.Host, "model": f.Model, "decision": f.Decision, "session_id": f.Session} {
		if v != "" {
			add(col+" = ?", v)
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}
