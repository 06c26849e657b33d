package console

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/internal/transcript"
	"github.com/airlock-dev/airlock/internal/visible"
)

// placeholder is the masker's placeholder, highlighted wherever text is shown.
var placeholder = regexp.MustCompile(`\[REDACTED:[a-z0-9_-]{1,64}:[0-9a-f]{6}\]`)

// highlight escapes s and marks the masked placeholders in it.
func highlight(s string) template.HTML {
	esc := template.HTMLEscapeString(visible.Text(s))
	return template.HTML(placeholder.ReplaceAllString(esc, `<mark class="masked">$0</mark>`)) //nolint:gosec // escaped above; the pattern holds no markup
}

type sessionsData struct {
	Sessions []audit.Session
	Error    string
}

func (s *Server) sessionList(w http.ResponseWriter, r *http.Request, sess *session) {
	var d sessionsData
	var err error
	if d.Sessions, err = s.src.Sessions(r.Context(), audit.SessionFilter{Caller: r.URL.Query().Get("caller"), Limit: pageSize}); err != nil {
		d.Error = err.Error()
	}
	s.pages.render(w, http.StatusOK, "sessions", s.page(sess, "sessions", "Sessions", d))
}

type sessionData struct {
	Detail     audit.SessionDetail
	Transcript string
}

func (s *Server) sessionView(w http.ResponseWriter, r *http.Request, sess *session) {
	d, err := s.src.Session(r.Context(), r.PathValue("id"))
	if err != nil {
		s.refuse(w, r, http.StatusNotFound, err.Error())
		return
	}
	var buf bytes.Buffer
	if err := transcript.RenderSession(&buf, d); err != nil {
		s.refuse(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	s.pages.render(w, http.StatusOK, "session", s.page(sess, "sessions", "Session "+d.ID, sessionData{Detail: d, Transcript: buf.String()}))
}

type replayData struct {
	Record audit.Record
	Speed  float64
	Speeds []float64
}

// replay streams a recorded answer into the page at its original pace
// (divided by speed; 0 plays it at once): the browser renders it as it
// arrives, so no script is needed.
func (s *Server) replay(w http.ResponseWriter, r *http.Request, sess *session) {
	q := r.URL.Query()
	id, err := strconv.ParseInt(q.Get("id"), 10, 64)
	speed, serr := strconv.ParseFloat(q.Get("speed"), 64)
	if err != nil || serr != nil || speed < 0 || speed > 100 {
		s.refuse(w, r, http.StatusBadRequest, "replay needs a record id and a speed between 0 (at once) and 100")
		return
	}
	e, err := s.src.Entry(r.Context(), q.Get("host"), id)
	if err == nil && e.Recording == nil {
		err = fmt.Errorf("record %d has no recording (metadata only)", id)
	}
	if err != nil {
		s.refuse(w, r, http.StatusNotFound, err.Error())
		return
	}
	s.streamReplay(w, r, sess, e, speed)
}

func (s *Server) streamReplay(w http.ResponseWriter, r *http.Request, sess *session, e audit.Entry, speed float64) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	rc := http.NewResponseController(w)
	d := s.page(sess, "sessions", fmt.Sprintf("Replay of record %d", e.Record.ID),
		replayData{Record: e.Record, Speed: speed, Speeds: []float64{1, 4, 0}})
	if err := s.pages.t.ExecuteTemplate(w, "replay_top", d); err != nil {
		return
	}
	_ = rc.Flush()
	start, block, open := time.Now(), -1, false
	for _, dl := range transcript.Deltas(e.Recording) {
		if transcript.Wait(r.Context(), start, dl.Offset, speed) != nil {
			return
		}
		kind := template.HTMLEscapeString(dl.Kind) // the upstream named it
		if dl.Block != block || !open {
			fmt.Fprint(w, closeIf(open)+`<div class="block `+kind+`"><span class="kind">`+kind+`</span>`)
			block, open = dl.Block, true
		}
		fmt.Fprint(w, highlight(dl.Text))
		_ = rc.Flush()
	}
	fmt.Fprint(w, closeIf(open))
	_ = s.pages.t.ExecuteTemplate(w, "replay_bottom", d)
}

func closeIf(open bool) string {
	if open {
		return "</div>"
	}
	return ""
}
