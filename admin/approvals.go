package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

const maxBody = 64 << 10

func (s *Server) needApprovals(w http.ResponseWriter) bool {
	if s.deps.Approvals == nil {
		writeError(w, http.StatusServiceUnavailable, "approvals are not enabled in this daemon")
		return false
	}
	return true
}

func (s *Server) listApprovals(w http.ResponseWriter, r *http.Request) {
	if s.needApprovals(w) {
		writeJSON(w, http.StatusOK, s.deps.Approvals.List())
	}
}

func (s *Server) getApproval(w http.ResponseWriter, r *http.Request) {
	if !s.needApprovals(w) {
		return
	}
	p, err := s.deps.Approvals.Get(r.PathValue("id"))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// decide approves or denies; the approver is the connection's peer, never
// anything the body says.
func (s *Server) decide(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.needApprovals(w) {
			return
		}
		d, window, err := readDecision(r, approve)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		p, _ := PeerFromContext(r.Context())
		id, who := r.PathValue("id"), p.Identity()
		if approve {
			err = s.deps.Approvals.Approve(id, who, d.Reason, window)
		} else {
			err = s.deps.Approvals.Deny(id, who, d.Reason)
		}
		if err != nil {
			writeErr(w, err)
			return
		}
		res := DecisionResult{ID: id, Approved: approve, Approver: who}
		if window > 0 {
			res.Until = time.Now().Add(window).UTC()
		}
		writeJSON(w, http.StatusOK, res)
	}
}

func readDecision(r *http.Request, approve bool) (Decision, time.Duration, error) {
	var d Decision
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return d, 0, fmt.Errorf("reading body: %w", err)
	}
	if len(body) > maxBody {
		return d, 0, errors.New("body too large")
	}
	if len(body) > 0 {
		dec := json.NewDecoder(bytesReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			return d, 0, fmt.Errorf("malformed decision body (want {\"reason\": \"...\", \"for\": \"30m\"}): %w", err)
		}
	}
	if d.For == "" {
		return d, 0, nil
	}
	if !approve {
		return d, 0, errors.New(`"for" applies only to approvals`)
	}
	window, err := time.ParseDuration(d.For)
	if err != nil || window <= 0 {
		return d, 0, fmt.Errorf("invalid \"for\" %q: want a positive duration such as 30m", d.For)
	}
	return d, window, nil
}
