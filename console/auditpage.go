package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/airlock-dev/airlock/audit"
)

const (
	pageSize  = 100
	maxExport = 1_000_000
)

type auditData struct {
	Query   url.Values
	Records []audit.Record
	Took    time.Duration
	Error   string
	Export  string // the export link for this search
}

func (s *Server) auditSearch(w http.ResponseWriter, r *http.Request, sess *session) {
	q := r.URL.Query()
	d := auditData{Query: q, Export: "/audit/export?" + q.Encode()}
	f, err := parseFilter(q, time.Now())
	if err == nil {
		f.Limit = pageSize
		began := time.Now()
		d.Records, err = s.src.List(r.Context(), f)
		d.Took = time.Since(began).Round(time.Millisecond)
		slices.Reverse(d.Records) // newest first
	}
	if err != nil {
		d.Error = err.Error()
	}
	s.pages.render(w, http.StatusOK, "audit", s.page(sess, "audit", "Audit", d))
}

func (s *Server) auditExport(w http.ResponseWriter, r *http.Request, _ *session) {
	f, err := parseFilter(r.URL.Query(), time.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.Limit = maxExport
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="airlock-audit.jsonl"`)
	if err := s.src.Export(r.Context(), f, w); err != nil {
		fmt.Fprintf(w, "{\"error\":%q}\n", err.Error()) // the status is gone: say it in the stream
	}
}

// parseFilter reads the search form. Times are RFC 3339, the form's
// "2006-01-02T15:04" (UTC), or a duration back from now ("24h").
func parseFilter(q url.Values, now time.Time) (audit.Filter, error) {
	f := audit.Filter{Host: q.Get("host"), Caller: q.Get("caller"), Model: q.Get("model"),
		Rule: q.Get("rule"), Decision: q.Get("decision"), Session: q.Get("session")}
	var err error
	if f.Since, err = parseTime(q.Get("since"), now); err != nil {
		return f, fmt.Errorf("since: %w", err)
	}
	if f.Until, err = parseTime(q.Get("until"), now); err != nil {
		return f, fmt.Errorf("until: %w", err)
	}
	if v := q.Get("status"); v != "" {
		if f.Status, err = strconv.Atoi(v); err != nil || f.Status < 100 || f.Status > 599 {
			return f, fmt.Errorf("status %q: want an HTTP status such as 403", v)
		}
	}
	return f, nil
}

func parseTime(v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: want a time (2006-01-02T15:04, UTC) or a duration back from now (24h)", v)
}

type recordData struct {
	Entry  audit.Entry
	Chain  audit.VerifyReport
	Broken []audit.Problem // the chain problems that concern this record
	Error  string
}

// auditRecord shows one record and whether the chain holds it intact.
func (s *Server) auditRecord(w http.ResponseWriter, r *http.Request, sess *session) {
	host := r.URL.Query().Get("host")
	id, err := strconv.ParseInt(r.URL.Query().Get("id"), 10, 64)
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "a record id is a number")
		return
	}
	var d recordData
	if d.Entry, err = s.src.Entry(r.Context(), host, id); err != nil {
		s.refuse(w, r, http.StatusNotFound, err.Error())
		return
	}
	if d.Chain, err = s.src.Chain(r.Context(), host, id); err != nil {
		d.Error = err.Error()
	}
	for _, p := range d.Chain.Problems {
		if p.Seq == id || (p.ToSeq != 0 && p.Seq <= id && id <= p.ToSeq) {
			d.Broken = append(d.Broken, p)
		}
	}
	s.pages.render(w, http.StatusOK, "record", s.page(sess, "audit", fmt.Sprintf("Record %d", id), d))
}
