package admin

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/airlock-dev/airlock/audit"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func (s *Server) needAudit(w http.ResponseWriter) bool {
	if s.deps.Audit == nil {
		writeError(w, http.StatusServiceUnavailable, "the audit store is not enabled in this daemon")
		return false
	}
	return true
}

// parseTime accepts RFC 3339, a date (2006-01-02), or a duration meaning "that long ago".
func parseTime(key, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("invalid %s %q: want RFC 3339, YYYY-MM-DD or a duration such as 2h", key, v)
}

func parseFilter(q url.Values) (audit.Filter, error) {
	now := time.Now()
	f := audit.Filter{Caller: q.Get("caller"), Model: q.Get("model"), Decision: q.Get("decision"), Session: q.Get("session")}
	var err error
	if f.Since, err = parseTime("since", q.Get("since"), now); err != nil {
		return f, err
	}
	if f.Until, err = parseTime("until", q.Get("until"), now); err != nil {
		return f, err
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 0 {
			return f, fmt.Errorf("invalid limit %q: want a non-negative integer", v)
		}
	}
	return f, nil
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	if !s.needAudit(w) {
		return
	}
	f, err := parseFilter(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if r.URL.Query().Get("format") == "jsonl" {
		w.Header().Set("Content-Type", "application/jsonl")
		_ = s.deps.Audit.Export(r.Context(), f, w) // headers are sent: a failure can only cut the stream
		return
	}
	recs, err := s.deps.Audit.List(r.Context(), f)
	if err != nil {
		writeErr(w, err)
		return
	}
	if recs == nil {
		recs = []audit.Record{}
	}
	writeJSON(w, http.StatusOK, recs)
}

// getAudit answers a record with its recording (if one was kept).
func (s *Server) getAudit(w http.ResponseWriter, r *http.Request) {
	if !s.needAudit(w) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid record id %q: want a positive integer", r.PathValue("id")))
		return
	}
	rec, err := s.deps.Audit.Get(r.Context(), id)
	if err != nil {
		writeErr(w, err)
		return
	}
	e := audit.Entry{Record: rec}
	if rec.RecordingHash != "" {
		if e.Recording, err = s.deps.Audit.Recording(r.Context(), id); err != nil {
			writeErr(w, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	if !s.needAudit(w) {
		return
	}
	rep, err := s.deps.Audit.Verify(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
