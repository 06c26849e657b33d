package admin

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/policy/approval"
)

// Handler is the whole API behind the peer check (useful in tests too).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", s.status)
	mux.HandleFunc("GET /v1/approvals", s.listApprovals)
	mux.HandleFunc("GET /v1/approvals/{id}", s.getApproval)
	mux.HandleFunc("POST /v1/approvals/{id}/approve", s.decide(true))
	mux.HandleFunc("POST /v1/approvals/{id}/deny", s.decide(false))
	mux.HandleFunc("GET /v1/audit", s.listAudit)
	mux.HandleFunc("GET /v1/audit/verify", s.verify)
	mux.HandleFunc("GET /v1/audit/{id}", s.getAudit)
	mux.HandleFunc("GET /v1/sessions", s.listSessions)
	mux.HandleFunc("GET /v1/sessions/{id}", s.getSession)
	mux.HandleFunc("GET /v1/sessions/{id}/replay", s.replay)
	mux.HandleFunc("POST /v1/console/link", s.consoleLink)
	mux.Handle("GET /metrics", s.deps.Metrics.Handler())
	return s.authorize(mux)
}

// authorize lets through root and the configured group on the socket, and
// holders of the token on TCP; everyone else gets 403 with the reason.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := PeerFromContext(r.Context())
		if !ok {
			p = &Peer{Via: "unix", Err: "no peer credentials on this connection"}
		}
		if reason := s.refusal(p, r); reason != "" {
			s.log.Warn("admin request refused", zap.String("via", p.Via), zap.Uint32("uid", p.UID),
				zap.Int32("pid", p.PID), zap.String("addr", p.Addr), zap.String("reason", reason))
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusForbidden, reason)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) refusal(p *Peer, r *http.Request) string {
	if p.Via == "tcp" {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || s.cfg.TCPToken == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.TCPToken)) != 1 {
			return "a valid bearer token is required"
		}
		return ""
	}
	if p.Err != "" {
		return "cannot identify the peer: " + p.Err
	}
	if !p.inGroup(s.gid, s.hasGroup) {
		if s.hasGroup {
			return fmt.Sprintf("uid %d is neither root nor a member of group %s", p.UID, s.cfg.Group)
		}
		return fmt.Sprintf("uid %d is not root (no admin group is configured)", p.UID)
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// writeErr maps a dependency's error onto 404/409/500.
func writeErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, approval.ErrNotFound), errors.Is(err, audit.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, approval.ErrDecided):
		writeError(w, http.StatusConflict, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	if s.deps.Status == nil {
		writeError(w, http.StatusServiceUnavailable, "status is not enabled in this daemon")
		return
	}
	v, err := s.deps.Status(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// consoleLink mints a one-time console sign-in link for root on the socket
// only: a TCP token holder or the admin group cannot sign in as a reviewer.
func (s *Server) consoleLink(w http.ResponseWriter, r *http.Request) {
	p, _ := PeerFromContext(r.Context())
	if p == nil || p.Via != "unix" || p.UID != 0 {
		writeError(w, http.StatusForbidden, "only root on the host may open the console with a one-time link")
		return
	}
	if s.deps.Console == nil {
		writeError(w, http.StatusServiceUnavailable, "the console is not enabled in this daemon (console.enabled)")
		return
	}
	writeJSON(w, http.StatusOK, ConsoleLink{URL: s.deps.Console.MintLink(p.Identity())})
}
