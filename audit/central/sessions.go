package central

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/airlock-dev/airlock/audit"
)

// Sessions lists the fleet's sessions, most recently active first, as the
// local store's Sessions does for one host.
func (db *DB) Sessions(ctx context.Context, f audit.SessionFilter) ([]audit.Session, error) {
	where, args := centralWhere(audit.Filter{Caller: f.Caller})
	q := `SELECT session_id, min(time_ns), max(time_ns), count(*), min(caller_uid), min(caller_user), min(caller_exe),
		string_agg(DISTINCT model, ',') FROM records` + where + ` GROUP BY session_id`
	if !f.Since.IsZero() {
		args = append(args, f.Since.UnixNano())
		q += fmt.Sprintf(` HAVING max(time_ns) >= $%d`, len(args))
	}
	q += ` ORDER BY max(time_ns) DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing central sessions: %w", err)
	}
	defer rows.Close()
	var out []audit.Session
	for rows.Next() {
		var s audit.Session
		var first, last, uid int64
		var models *string
		if err := rows.Scan(&s.ID, &first, &last, &s.Records, &uid, &s.User, &s.Exe, &models); err != nil {
			return nil, fmt.Errorf("reading central sessions: %w", err)
		}
		s.UID = uint32(uid)
		s.First, s.Last = time.Unix(0, first).UTC(), time.Unix(0, last).UTC()
		s.Derived = strings.HasPrefix(s.ID, "derived-")
		if models != nil {
			s.Models = strings.Split(*models, ",")
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Session returns one session's records and recordings, oldest first.
func (db *DB) Session(ctx context.Context, id string) (audit.SessionDetail, error) {
	rows, err := db.pool.Query(ctx, `SELECT host, seq, body, prev_hash, hash, recording FROM records
		WHERE session_id = $1 ORDER BY time_ns, host, seq`, id)
	if err != nil {
		return audit.SessionDetail{}, fmt.Errorf("reading central session %s: %w", id, err)
	}
	defer rows.Close()
	var d audit.SessionDetail
	var recs []audit.Record
	for rows.Next() {
		var r audit.Row
		var host string
		if err := rows.Scan(&host, &r.Seq, &r.Body, &r.PrevHash, &r.Hash, &r.Recording); err != nil {
			return d, fmt.Errorf("reading central session %s: %w", id, err)
		}
		e, err := entryOf(host, r)
		if err != nil {
			return d, err
		}
		recs = append(recs, e.Record)
		d.Entries = append(d.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return d, err
	}
	if len(recs) == 0 {
		return d, fmt.Errorf("session %q: %w", id, audit.ErrNotFound)
	}
	d.Session = audit.Summarize(id, recs)
	return d, nil
}

func entryOf(host string, r audit.Row) (audit.Entry, error) {
	rec, err := r.Record()
	if err != nil {
		return audit.Entry{}, err
	}
	rec.Host = host
	e := audit.Entry{Record: rec}
	if r.Recording != nil {
		if e.Recording, err = audit.DecodeRecording(r.Recording); err != nil {
			return e, err
		}
	}
	return e, nil
}

// Entry returns host's record seq with its recording.
func (db *DB) Entry(ctx context.Context, host string, seq int64) (audit.Entry, error) {
	var r audit.Row
	err := db.pool.QueryRow(ctx, `SELECT seq, body, prev_hash, hash, recording FROM records WHERE host = $1 AND seq = $2`,
		host, seq).Scan(&r.Seq, &r.Body, &r.PrevHash, &r.Hash, &r.Recording)
	if errors.Is(err, pgx.ErrNoRows) {
		return audit.Entry{}, fmt.Errorf("record %d of %s: %w", seq, host, audit.ErrNotFound)
	}
	if err != nil {
		return audit.Entry{}, fmt.Errorf("reading record %d of %s: %w", seq, host, err)
	}
	return entryOf(host, r)
}
