package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/internal/visible"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageData is what every page template receives.
type pageData struct {
	Title    string
	Nav      string // the current section: waiting, audit, sessions, usage
	Reviewer *Reviewer
	CSRF     string
	Message  string
	OIDC     bool
	Fleet    bool
	Data     any
}

type pages struct{ t *template.Template }

var funcs = template.FuncMap{
	"utc":       func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
	"left":      timeLeft,
	"caller":    callerText,
	"join":      strings.Join,
	"ms":        func(d time.Duration) string { return d.Round(time.Millisecond).String() },
	"highlight": highlight,
	"shown":     visible.String, // what a watched program chose: escapes shown, never obeyed
	"decisions": func() []string { return []string{"", "allow", "deny", "approval_denied", "approval_timeout", "error"} },
}

func parsePages() (*pages, error) {
	t, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parsing console templates: %w", err)
	}
	return &pages{t: t}, nil
}

// render executes name into a buffer first, so a template error is a clean
// 500 rather than half a page.
func (p *pages) render(w http.ResponseWriter, status int, name string, d pageData) {
	var buf bytes.Buffer
	if err := p.t.ExecuteTemplate(&buf, name, d); err != nil {
		http.Error(w, "rendering "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) page(sess *session, nav, title string, data any) pageData {
	return pageData{Title: title, Nav: nav, Reviewer: &sess.Reviewer, CSRF: sess.CSRF, Fleet: s.cfg.Host == "", Data: data}
}

func timeLeft(until time.Time) string {
	d := time.Until(until).Round(time.Second)
	if d <= 0 {
		return "expiring"
	}
	return d.String()
}

// callerText names a caller the way a reviewer recognises it.
func callerText(p caller.Process) string {
	parts := []string{fmt.Sprintf("%s (uid %d)", orDash(p.User), p.UID)}
	for _, v := range []string{p.Exe, p.Unit, p.Container} {
		if v != "" {
			parts = append(parts, v)
		}
	}
	if p.PID != 0 {
		parts = append(parts, fmt.Sprintf("pid %d", p.PID))
	}
	return visible.String(strings.Join(parts, " · "))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
