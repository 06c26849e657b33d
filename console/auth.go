package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

const (
	sessionCookie = "__Host-airlock_session" // __Host-: Secure, Path=/, no Domain, so no sibling host can set it
	sessionTTL    = 8 * time.Hour
	maxSessions   = 10000
)

// Reviewer is who is signed in: what every decision records.
type Reviewer struct {
	Subject string   // the IdP's subject, or the local operator
	Email   string   // may be empty
	Groups  []string // the group claim
	Via     string   // "oidc" or "link"
}

// Identity is how decisions name the reviewer.
func (r Reviewer) Identity() string {
	who := r.Email
	if who == "" {
		who = r.Subject
	}
	return r.Via + ":" + who
}

type session struct {
	Reviewer
	CSRF    string
	expires time.Time
}

// sessionStore keeps sessions server-side: the cookie holds only a random id,
// so signing out or a restart ends a session for good.
type sessionStore struct {
	mu sync.Mutex
	m  map[string]*session
}

func newSessionStore() *sessionStore { return &sessionStore{m: map[string]*session{}} }

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (st *sessionStore) create(r Reviewer) (string, *session) {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := time.Now()
	if len(st.m) >= maxSessions {
		forgetExpired(st.m, now, func(s *session) time.Time { return s.expires })
	}
	id, s := randomToken(), &session{Reviewer: r, CSRF: randomToken(), expires: now.Add(sessionTTL)}
	st.m[id] = s
	return id, s
}

func (st *sessionStore) get(id string) *session {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.m[id]
	if s == nil || time.Now().After(s.expires) {
		delete(st.m, id)
		return nil
	}
	return s
}

func (st *sessionStore) end(id string) {
	st.mu.Lock()
	delete(st.m, id)
	st.mu.Unlock()
}

func setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (s *Server) signIn(w http.ResponseWriter, r Reviewer) {
	id, _ := s.sessions.create(r)
	setCookie(w, sessionCookie, id, sessionTTL)
}

func (s *Server) current(r *http.Request) (*session, string) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, ""
	}
	return s.sessions.get(c.Value), c.Value
}

// signedIn sends visitors without a session to the sign-in page.
func (s *Server) signedIn(next func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, _ := s.current(r)
		if sess == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			s.refuse(w, r, http.StatusUnauthorized, "sign in first")
			return
		}
		next(w, r, sess)
	}
}

// changes guards every state change: a same-origin request (the browser's
// Sec-Fetch-Site and Origin say so) carrying the session's CSRF token.
func (s *Server) changes(next func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return s.signedIn(func(w http.ResponseWriter, r *http.Request, sess *session) {
		if err := s.crossOrigin.Check(r); err != nil {
			s.refuse(w, r, http.StatusForbidden, "cross-origin request refused")
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(sess.CSRF)) != 1 {
			s.refuse(w, r, http.StatusForbidden, "missing or wrong CSRF token: reload the page and try again")
			return
		}
		next(w, r, sess)
	})
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, _ *session) {
	if _, id := s.current(r); id != "" {
		s.sessions.end(id)
	}
	setCookie(w, sessionCookie, "", -time.Second)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// forgetExpired drops the entries of m whose expiry has passed.
func forgetExpired[V any](m map[string]V, now time.Time, expires func(V) time.Time) {
	for k, v := range m {
		if now.After(expires(v)) {
			delete(m, k)
		}
	}
}
