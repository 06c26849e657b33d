package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"go.uber.org/zap"
	"golang.org/x/oauth2"
)

const (
	loginCookie = "__Host-airlock_login" // binds the IdP round trip to the browser that started it
	loginTTL    = 10 * time.Minute
)

// oidcLogin runs the authorization-code flow with PKCE, state and nonce.
// The provider is discovered on first use, so an unreachable IdP delays
// sign-in, never the daemon's start. Nothing of an unfinished sign-in is
// kept server-side: its nonce and PKCE verifier are derived from its state
// with a per-process key, so a flood of started sign-ins crowds out no one.
type oidcLogin struct {
	cfg      OIDC
	log      *zap.Logger
	redirect string
	key      []byte
	mu       sync.Mutex
	provider *oidc.Provider
}

type pendingLogin struct{ nonce, verifier string }

func newOIDCLogin(cfg OIDC, log *zap.Logger) *oidcLogin {
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &oidcLogin{cfg: cfg, log: log, key: key}
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

// start returns a new sign-in's state (its expiry and a random part) and
// the secrets derived from it.
func (o *oidcLogin) start(now time.Time) (string, pendingLogin) {
	state := strconv.FormatInt(now.Add(loginTTL).Unix(), 10) + "." + randomToken()
	return state, o.derive(state)
}

// finish gives back the secrets of a sign-in that has not expired.
func (o *oidcLogin) finish(state string, now time.Time) (pendingLogin, bool) {
	exp, _, ok := strings.Cut(state, ".")
	until, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || now.Unix() > until {
		return pendingLogin{}, false
	}
	return o.derive(state), true
}

func (o *oidcLogin) derive(state string) pendingLogin {
	return pendingLogin{nonce: o.mac("nonce", state), verifier: o.mac("pkce", state)}
}

// mac is 43 base64url characters: also a valid PKCE verifier (RFC 7636).
func (o *oidcLogin) mac(purpose, state string) string {
	m := hmac.New(sha256.New, o.key)
	m.Write([]byte(purpose + "\x00" + state))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
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
	state, p := s.oidc.start(time.Now())
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
	p, ok := s.oidc.finish(state, time.Now())
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
