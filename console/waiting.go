package console

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/policy/approval"
)

const (
	pollEvery    = 200 * time.Millisecond // how often an open Waiting page looks for changes
	refreshEvery = 5 * time.Second        // re-send even unchanged, so "time left" stays true
	maxWindow    = 24 * time.Hour
	maxReason    = 500
)

// windows are the just-in-time windows a reviewer may open with an approval.
var windows = []string{"15m", "1h", "8h"}

type waitingData struct {
	Held    []Held
	Windows []string
	Error   string
}

func (s *Server) waiting(w http.ResponseWriter, r *http.Request, sess *session) {
	d := s.heldData(r)
	p := s.page(sess, "waiting", "Waiting", d)
	p.Message = r.URL.Query().Get("done")
	s.pages.render(w, http.StatusOK, "waiting", p)
}

func (s *Server) heldData(r *http.Request) waitingData {
	held, err := s.queue.List(r.Context())
	d := waitingData{Held: held, Windows: windows}
	if err != nil {
		d.Error = err.Error()
	}
	return d
}

// events streams the rendered list of held requests whenever it changes:
// a held request shows up without a reload, and a decided one goes away.
func (s *Server) events(w http.ResponseWriter, r *http.Request, sess *session) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	var last string
	var sent time.Time
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		ids, frag := s.heldFragment(r, sess)
		if ids != last || time.Since(sent) > refreshEvery {
			if err := writeEvent(w, frag); err != nil || rc.Flush() != nil {
				return
			}
			last, sent = ids, time.Now()
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case <-tick.C:
		}
	}
}

func (s *Server) heldFragment(r *http.Request, sess *session) (string, string) {
	d := s.heldData(r)
	var ids strings.Builder
	for _, h := range d.Held {
		ids.WriteString(h.ID + ",")
	}
	var buf bytes.Buffer
	if err := s.pages.t.ExecuteTemplate(&buf, "held", s.page(sess, "waiting", "", d)); err != nil {
		s.log.Error("rendering held requests", zap.Error(err))
	}
	return ids.String() + d.Error, buf.String()
}

// writeEvent sends one SSE message whose data is frag (one data line per line).
func writeEvent(w http.ResponseWriter, frag string) error {
	var b strings.Builder
	b.WriteString("event: held\n")
	for _, line := range strings.Split(frag, "\n") {
		b.WriteString("data: " + line + "\n")
	}
	b.WriteString("\n")
	_, err := w.Write([]byte(b.String()))
	return err
}

// decide records the signed-in reviewer's decision; the form needs no script.
func (s *Server) decide(approve bool) func(http.ResponseWriter, *http.Request, *session) {
	return func(w http.ResponseWriter, r *http.Request, sess *session) {
		id, who := r.PathValue("id"), sess.Identity()
		reason, window, err := readForm(r, approve)
		if err == nil {
			if approve {
				err = s.queue.Approve(r.Context(), id, who, reason, window)
			} else {
				err = s.queue.Deny(r.Context(), id, who, reason)
			}
		}
		if err != nil {
			s.refuse(w, r, decisionStatus(err), err.Error())
			return
		}
		s.log.Info("reviewer decided", zap.String("approval_id", id), zap.Bool("approved", approve), zap.String("by", who))
		verb := map[bool]string{true: "approved", false: "denied"}[approve]
		http.Redirect(w, r, "/?done="+verb+"+"+id, http.StatusSeeOther)
	}
}

func readForm(r *http.Request, approve bool) (string, time.Duration, error) {
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if len(reason) > maxReason {
		return "", 0, fmt.Errorf("the reason is longer than %d bytes", maxReason)
	}
	if !approve && reason == "" {
		return "", 0, errors.New("a denial needs a reason: the client sees it")
	}
	v := r.PostFormValue("window")
	if !approve || v == "" {
		return reason, 0, nil
	}
	window, err := time.ParseDuration(v)
	if err != nil || window <= 0 || window > maxWindow {
		return "", 0, fmt.Errorf("invalid window %q: want a duration up to %s", v, maxWindow)
	}
	return reason, window, nil
}

func decisionStatus(err error) int {
	switch {
	case errors.Is(err, approval.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, approval.ErrDecided):
		return http.StatusConflict
	}
	return http.StatusBadRequest
}
