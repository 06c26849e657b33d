package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"go.uber.org/zap"
	"golang.org/x/oauth2"
)

const (
	loginCookie = "__Host-airlock_login" // binds the IdP round trip to the browser that started it
	loginTTL    = 10 * time.Minute
	maxLogins   = 1000
)

// oidcLogin runs the authorization-code flow with PKCE, state and nonce.
// The provider is discovered on first use, so an unreachable IdP delays
// sign-in, never the daemon's start.
type oidcLogin struct {
	cfg      OIDC
	log      *zap.Logger
	redirect string
	mu       sync.Mutex
	provider *oidc.Provider
	pending  map[string]pendingLogin // by state
}

type pendingLogin struct {
	nonce, verifier string
	expires         time.Time
}

func newOIDCLogin(cfg OIDC, log *zap.Logger) *oidcLogin {
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	return &oidcLogin{cfg: cfg, log: log, pending: map[string]pendingLogin{}}
}

func (o *oidcLogin) enabled() bool          { return o.cfg.Issuer != "" }
func (o *oidcLogin) setRedirect(url string) { o.redirect = url }

func (o *oidcLogin) oauth(ctx context.Context) (*oauth2.Config, *oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider == nil {
		p, err := oidc.NewProvider(ctx, o.cfg.Issuer)
		if err != nil {
			return nil, nil, fmt.Errorf("discovering the identity provider %s: %w", o.cfg.Issuer, err)
		}
		o.provider = p
	}
	return &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: o.provider.Endpoint(),
		RedirectURL: o.redirect, Scopes: []string{oidc.ScopeOpenID, "email", "profile", "groups"}}, o.provider, nil
}

// start remembers a new login and returns its state.
func (o *oidcLogin) start() (string, pendingLogin) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	if len(o.pending) >= maxLogins {
		forgetExpired(o.pending, now, func(p pendingLogin) time.Time { return p.expires })
	}
	state := randomToken()
	p := pendingLogin{nonce: randomToken(), verifier: oauth2.GenerateVerifier(), expires: now.Add(loginTTL)}
	if len(o.pending) < maxLogins {
		o.pending[state] = p
	}
	return state, p
}

func (o *oidcLogin) finish(state string) (pendingLogin, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.pending[state]
	delete(o.pending, state)
	return p, ok && time.Now().Before(p.expires)
}

func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request) {
	if !s.oidc.enabled() {
		s.refuse(w, r, http.StatusNotFound, "no identity provider is configured: use `airlock console open` on the host")
		return
	}
	conf, _, err := s.oidc.oauth(r.Context())
	if err != nil {
		s.log.Error("oidc", zap.Error(err))
		s.refuse(w, r, http.StatusBadGateway, "the identity provider cannot be reached")
		return
	}
	state, p := s.oidc.start()
	setCookie(w, loginCookie, state, loginTTL)
	http.Redirect(w, r, conf.AuthCodeURL(state, oidc.Nonce(p.nonce), oauth2.S256ChallengeOption(p.verifier)), http.StatusSeeOther)
}

func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	rev, err := s.oidcExchange(r)
	setCookie(w, loginCookie, "", -time.Second)
	if err != nil {
		s.log.Warn("reviewer sign-in refused", zap.Error(err))
		s.refuse(w, r, http.StatusForbidden, "sign-in refused: "+err.Error())
		return
	}
	if !s.isReviewer(rev) {
		s.log.Warn("reviewer sign-in refused: not in a reviewer group", zap.String("who", rev.Identity()), zap.Strings("groups", rev.Groups))
		s.refuse(w, r, http.StatusForbidden, fmt.Sprintf("%s is not in a reviewer group (console.reviewers)", rev.Identity()))
		return
	}
	s.log.Info("reviewer signed in", zap.String("via", "oidc"), zap.String("who", rev.Identity()))
	s.signIn(w, rev)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

var errLogin = errors.New("this sign-in was not started here or has expired: start again")

func (s *Server) oidcExchange(r *http.Request) (Reviewer, error) {
	c, err := r.Cookie(loginCookie)
	state := r.URL.Query().Get("state")
	if err != nil || state == "" || c.Value != state {
		return Reviewer{}, errLogin
	}
	p, ok := s.oidc.finish(state)
	if !ok {
		return Reviewer{}, errLogin
	}
	conf, provider, err := s.oidc.oauth(r.Context())
	if err != nil {
		return Reviewer{}, err
	}
	tok, err := conf.Exchange(r.Context(), r.URL.Query().Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		return Reviewer{}, fmt.Errorf("exchanging the code: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: s.cfg.OIDC.ClientID}).Verify(r.Context(), raw)
	if err != nil {
		return Reviewer{}, fmt.Errorf("verifying the ID token: %w", err)
	}
	if idt.Nonce != p.nonce {
		return Reviewer{}, errors.New("the ID token's nonce does not match this sign-in")
	}
	return s.reviewerOf(idt)
}

func (s *Server) reviewerOf(idt *oidc.IDToken) (Reviewer, error) {
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return Reviewer{}, fmt.Errorf("reading the ID token's claims: %w", err)
	}
	rev := Reviewer{Subject: idt.Subject, Via: "oidc"}
	if verified, _ := claims["email_verified"].(bool); verified {
		rev.Email, _ = claims["email"].(string) // an unverified address could be anyone's
	}
	groups, _ := claims[s.oidc.cfg.GroupsClaim].([]any)
	for _, g := range groups {
		if name, ok := g.(string); ok {
			rev.Groups = append(rev.Groups, name)
		}
	}
	return rev, nil
}

// isReviewer: a member of one of console.reviewers (no list: nobody).
func (s *Server) isReviewer(rev Reviewer) bool {
	for _, g := range rev.Groups {
		if slices.Contains(s.cfg.Reviewers, g) {
			return true
		}
	}
	return false
}
