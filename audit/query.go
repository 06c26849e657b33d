package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Filter selects records. Zero fields match everything.
type Filter struct {
	Since    time.Time
	Until    time.Time
	Caller   string // a uid, a user name, an executable path or its base name
	Model    string
	Decision string
	Session  string
	Host     string // a fleet's central store only: one host's records
	Rule     string
	Status   int // the HTTP status answered; 0 matches every status
	Limit    int // newest Limit records; 0 means all
}

func (f Filter) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) { conds = append(conds, cond); args = append(args, a...) }
	addArgs := func(cond string, a []any) { add(cond, a...) }
	if !f.Since.IsZero() {
		add("time_ns >= ?", nanos(f.Since))
	}
	if !f.Until.IsZero() {
		add("time_ns < ?", nanos(f.Until))
	}
	if f.Caller != "" {
		addArgs(callerCondition(f.Caller))
	}
	if f.Status != 0 {
		add("status = ?", f.Status)
	}
	for col, v := range map[string]string{"model": f.Model, "decision": f.Decision, "session_id": f.Session, "rule": f.Rule} {
		if v != "" {
			add(col+" = ?", v)
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// List returns matching records, oldest first.
func (s *Store) List(ctx context.Context, f Filter) ([]Record, error) {
	s.settle(ctx)
	var out []Record
	err := s.each(ctx, f, func(r Record) error { out = append(out, r); return nil })
	return out, err
}

// Export writes matching records as JSON lines, oldest first.
func (s *Store) Export(ctx context.Context, f Filter, w io.Writer) error {
	s.settle(ctx)
	enc := json.NewEncoder(w)
	return s.each(ctx, f, func(r Record) error { return enc.Encode(&r) })
}

func (s *Store) each(ctx context.Context, f Filter, fn func(Record) error) error {
	where, args := f.where()
	q := `SELECT seq, body, prev_hash, hash FROM records` + where + ` ORDER BY seq`
	if f.Limit > 0 {
		q = `SELECT * FROM (SELECT seq, body, prev_hash, hash FROM records` + where +
			` ORDER BY seq DESC LIMIT ` + strconv.Itoa(f.Limit) + `) ORDER BY seq`
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("querying audit records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

func scanRecord(sc scanner) (Record, error) {
	var r Record
	var body []byte
	var seq int64
	var prev, hash string
	if err := sc.Scan(&seq, &body, &prev, &hash); err != nil {
		return r, err
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return r, fmt.Errorf("decoding audit record %d: %w", seq, err)
	}
	r.ID, r.PrevHash, r.Hash = seq, prev, hash
	return r, nil
}

// Get returns record id.
func (s *Store) Get(ctx context.Context, id int64) (Record, error) {
	s.settle(ctx)
	row := s.db.QueryRowContext(ctx, `SELECT seq, body, prev_hash, hash FROM records WHERE seq = ?`, id)
	r, err := scanRecord(row)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("audit record %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("reading audit record %d: %w", id, err)
	}
	return r, nil
}

// callerCondition matches a uid, a user name, an executable's path or its
// base name, with one indexed equality per case, so a search for one caller
// reads that caller's rows rather than the whole table.
func callerCondition(c string) (string, []any) {
	if uid, err := strconv.ParseInt(c, 10, 64); err == nil {
		return "(caller_uid = ? OR caller_user = ?)", []any{uid, c}
	}
	if strings.HasPrefix(c, "/") {
		return "caller_exe = ?", []any{c}
	}
	if strings.Contains(c, "/") { // the end of a path ("bin/node"): rare, not indexed
		return "caller_exe LIKE ?", []any{"%/" + c}
	}
	return "(caller_user = ? OR exe_name = ?)", []any{c, c}
}
