package console

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// csp allows nothing but this origin's own scripts, styles and forms.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Handler is the whole console (useful in tests too).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	sub, _ := fs.Sub(static, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(sub)))
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("GET /login/oidc", s.oidcStart)
	mux.HandleFunc("GET /login/callback", s.oidcCallback)
	mux.HandleFunc("GET /login/link", s.linkSignIn)
	mux.HandleFunc("POST /logout", s.changes(s.signOut))
	mux.HandleFunc("GET /{$}", s.signedIn(s.waiting))
	mux.HandleFunc("GET /events", s.signedIn(s.events))
	mux.HandleFunc("POST /approvals/{id}/approve", s.changes(s.decide(true)))
	mux.HandleFunc("POST /approvals/{id}/deny", s.changes(s.decide(false)))
	mux.HandleFunc("GET /audit", s.signedIn(s.auditSearch))
	mux.HandleFunc("GET /audit/export", s.signedIn(s.auditExport))
	mux.HandleFunc("GET /audit/record", s.signedIn(s.auditRecord))
	mux.HandleFunc("GET /sessions", s.signedIn(s.sessionList))
	mux.HandleFunc("GET /sessions/{id}", s.signedIn(s.sessionView))
	mux.HandleFunc("GET /replay", s.signedIn(s.replay))
	mux.HandleFunc("GET /usage", s.signedIn(s.usage))
	return secureHeaders(mux)
}

func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Strict-Transport-Security", "max-age=31536000")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.pages.render(w, status, "error", pageData{Title: http.StatusText(status), Message: msg})
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.pages.render(w, http.StatusOK, "login", pageData{Title: "Sign in", OIDC: s.oidc.enabled()})
}
