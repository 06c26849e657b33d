package admin

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/internal/transcript"
)

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	if !s.needAudit(w) {
		return
	}
	q := r.URL.Query()
	f := audit.SessionFilter{Caller: q.Get("caller")}
	var err error
	if f.Since, err = parseTime("since", q.Get("since"), time.Now()); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid limit %q", v))
			return
		}
	}
	list, err := s.deps.Audit.Sessions(r.Context(), f)
	if err != nil {
		writeErr(w, err)
		return
	}
	if list == nil {
		list = []audit.Session{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	if !s.needAudit(w) {
		return
	}
	d, err := s.deps.Audit.Session(r.Context(), r.PathValue("id"))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// replay re-streams the session's responses at the recorded pace divided by
// speed (0: as fast as possible), exactly the bytes the client received.
func (s *Server) replay(w http.ResponseWriter, r *http.Request) {
	if !s.needAudit(w) {
		return
	}
	speed := 1.0
	if v := r.URL.Query().Get("speed"); v != "" {
		var err error
		if speed, err = strconv.ParseFloat(v, 64); err != nil || speed < 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid speed %q: want a non-negative number", v))
			return
		}
	}
	d, err := s.deps.Audit.Session(r.Context(), r.PathValue("id"))
	if err != nil {
		writeErr(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	_ = transcript.ReplaySession(r.Context(), w, d, speed)
}
