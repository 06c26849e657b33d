package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Session groups the records of one conversation.
type Session struct {
	ID      string    `json:"id"`
	Derived bool      `json:"derived"` // grouped by caller and time, not by a client session header
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
	Records int       `json:"records"`
	User    string    `json:"user,omitempty"`
	UID     uint32    `json:"uid"`
	Exe     string    `json:"exe,omitempty"`
	Models  []string  `json:"models,omitempty"`
}

// SessionFilter selects sessions by their last activity and caller.
type SessionFilter struct {
	Since  time.Time
	Caller string
	Limit  int // most recent Limit sessions; 0 means all
}

// SessionDetail is a session with its records and their recordings.
type SessionDetail struct {
	Session
	Entries []Entry `json:"entries"`
}

// Entry is one request of a session; Recording is nil when none was kept.
type Entry struct {
	Record    Record     `json:"record"`
	Recording *Recording `json:"recording,omitempty"`
}

const derivedPrefix = "derived-"

// Sessions lists sessions, most recently active first.
func (s *Store) Sessions(ctx context.Context, f SessionFilter) ([]Session, error) {
	s.settle(ctx)
	where, args := Filter{Caller: f.Caller}.where()
	q := `SELECT session_id, MIN(time_ns), MAX(time_ns), COUNT(*), MIN(caller_uid), MIN(caller_user), MIN(caller_exe),
		GROUP_CONCAT(DISTINCT model) FROM records` + where + ` GROUP BY session_id`
	if !f.Since.IsZero() {
		q += ` HAVING MAX(time_ns) >= ?`
		args = append(args, nanos(f.Since))
	}
	q += ` ORDER BY MAX(time_ns) DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var ss Session
		var first, last int64
		var models string
		if err := rows.Scan(&ss.ID, &first, &last, &ss.Records, &ss.UID, &ss.User, &ss.Exe, &models); err != nil {
			return nil, fmt.Errorf("reading session: %w", err)
		}
		ss.First, ss.Last = time.Unix(0, first).UTC(), time.Unix(0, last).UTC()
		ss.Derived = strings.HasPrefix(ss.ID, derivedPrefix)
		ss.Models = splitModels(models)
		out = append(out, ss)
	}
	return out, rows.Err()
}

func splitModels(s string) []string {
	var out []string
	for _, m := range strings.Split(s, ",") {
		if m != "" {
			out = append(out, m)
		}
	}
	return out
}

// Session returns session id with every record and recording, oldest first.
func (s *Store) Session(ctx context.Context, id string) (SessionDetail, error) {
	s.settle(ctx)
	recs, err := s.List(ctx, Filter{Session: id})
	if err != nil {
		return SessionDetail{}, err
	}
	if len(recs) == 0 {
		return SessionDetail{}, fmt.Errorf("session %q: %w", id, ErrNotFound)
	}
	d := SessionDetail{Session: Summarize(id, recs)}
	for _, r := range recs {
		e := Entry{Record: r}
		if r.RecordingHash != "" {
			if e.Recording, err = s.Recording(ctx, r.ID); err != nil {
				return d, err
			}
		}
		d.Entries = append(d.Entries, e)
	}
	return d, nil
}

// Summarize describes a session from its records, oldest first.
func Summarize(id string, recs []Record) Session {
	first, last := recs[0], recs[len(recs)-1]
	ss := Session{ID: id, Derived: strings.HasPrefix(id, derivedPrefix), First: first.Time, Last: last.Time,
		Records: len(recs), User: first.Caller.User, UID: first.Caller.UID, Exe: first.Caller.Exe}
	seen := map[string]bool{}
	for _, r := range recs {
		if r.Model != "" && !seen[r.Model] {
			seen[r.Model] = true
			ss.Models = append(ss.Models, r.Model)
		}
	}
	return ss
}

// sessionTracker derives a session id for callers that send no session
// header: the same caller (uid, exe, cgroup, container) within SessionGap of
// its previous request continues the session.
type sessionTracker struct {
	gap  time.Duration
	mu   sync.Mutex
	last map[string]derived
}

type derived struct {
	id   string
	seen time.Time
}

func newSessionTracker(gap time.Duration) *sessionTracker {
	return &sessionTracker{gap: gap, last: make(map[string]derived)}
}

func (t *sessionTracker) derive(r *Record) string {
	p := r.Caller
	key := fmt.Sprintf("%d|%s|%d|%s|%s", p.UID, p.Exe, p.CgroupID, p.Container, p.Unit)
	t.mu.Lock()
	defer t.mu.Unlock()
	d, ok := t.last[key]
	if !ok || r.Time.Sub(d.seen) > t.gap || r.Time.Before(d.seen.Add(-t.gap)) {
		sum := sha256.Sum256([]byte(key))
		d.id = derivedPrefix + hex.EncodeToString(sum[:4]) + "-" + r.Time.UTC().Format("20060102T150405Z")
	}
	d.seen = r.Time
	t.last[key] = d
	if len(t.last) > 10000 { // bound memory: forget idle callers
		t.forgetIdle(r.Time)
	}
	return d.id
}

func (t *sessionTracker) forgetIdle(now time.Time) {
	for k, d := range t.last {
		if now.Sub(d.seen) > t.gap {
			delete(t.last, k)
		}
	}
}
