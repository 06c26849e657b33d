package console

import (
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"
)

// linkTTL is how long a one-time sign-in link works.
const linkTTL = 10 * time.Minute

// linkStore holds the one-time sign-in links that `airlock console open`
// asks for over the root-only admin socket.
type linkStore struct {
	mu sync.Mutex
	m  map[string]link
}

type link struct {
	who     string
	expires time.Time
}

func newLinkStore() *linkStore { return &linkStore{m: map[string]link{}} }

func (ls *linkStore) mint(who string) string {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	now := time.Now()
	forgetExpired(ls.m, now, func(l link) time.Time { return l.expires })
	t := randomToken()
	ls.m[t] = link{who: who, expires: now.Add(linkTTL)}
	return t
}

// redeem consumes token: a link signs in once.
func (ls *linkStore) redeem(token string) (string, bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l, ok := ls.m[token]
	delete(ls.m, token)
	if !ok || time.Now().After(l.expires) {
		return "", false
	}
	return l.who, true
}

func (s *Server) linkSignIn(w http.ResponseWriter, r *http.Request) {
	who, ok := s.links.redeem(r.URL.Query().Get("token"))
	if !ok {
		s.refuse(w, r, http.StatusForbidden, "this sign-in link is unknown, used or expired: run `airlock console open` again")
		return
	}
	s.log.Info("reviewer signed in", zap.String("via", "link"), zap.String("who", who))
	s.signIn(w, Reviewer{Subject: who, Via: "link"})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
