// Package console is the reviewers' web console: the held requests waiting
// for a decision (updated live over server-sent events), the audit search
// and export, session replay and usage charts. Pages are Go templates served
// with every asset embedded, behind OpenID Connect (or a one-time link for a
// single host), session cookies, CSRF tokens and a strict CSP. It reads
// through Queue and Source, so one host's daemon and a fleet's central store
// are served by the same code.
package console

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/policy/approval"
)

// Queue is where held requests wait: the daemon's broker, or a fleet's
// central approvals table.
type Queue interface {
	List(ctx context.Context) ([]Held, error)
	Approve(ctx context.Context, id, by, reason string, window time.Duration) error
	Deny(ctx context.Context, id, by, reason string) error
}

// Held is one request waiting for a reviewer.
type Held struct {
	approval.Pending
	Host string
}

// Source is the audit the console reads: one host's store or the fleet's.
type Source interface {
	List(ctx context.Context, f audit.Filter) ([]audit.Record, error)
	Export(ctx context.Context, f audit.Filter, w io.Writer) error
	Entry(ctx context.Context, host string, id int64) (audit.Entry, error)
	// Chain checks record id's links in its host's chain (not the whole chain).
	Chain(ctx context.Context, host string, id int64) (audit.VerifyReport, error)
	Sessions(ctx context.Context, f audit.SessionFilter) ([]audit.Session, error)
	Session(ctx context.Context, id string) (audit.SessionDetail, error)
	Usage(ctx context.Context, since time.Time) ([]audit.Usage, error)
}

// Config configures the console.
type Config struct {
	Listen    string // host:port; loopback unless an operator certificate is given
	URL       string // how reviewers reach it (OIDC redirects); "" = https://Listen
	CertFile  string // the operator's certificate and key; "" = a self-signed one in StateDir
	KeyFile   string
	StateDir  string   // where the self-signed serving certificate is kept
	Host      string   // this host's name; "" in fleet mode
	Reviewers []string // groups (OIDC group claim) whose members may decide
	OIDC      OIDC
	Log       *zap.Logger
}

// OIDC is the reviewers' identity provider; an empty Issuer disables it.
type OIDC struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	GroupsClaim  string // default "groups"
}

// Server is the console.
type Server struct {
	cfg      Config
	queue    Queue
	src      Source
	log      *zap.Logger
	pages    *pages
	sessions *sessionStore
	links    *linkStore
	oidc     *oidcLogin
	srv      *http.Server
	addr     net.Addr
	leaf     *x509.Certificate
	done     chan struct{} // closed at Close: ends the event streams
	stop     sync.Once
	// crossOrigin refuses requests the browser marks as cross-site.
	crossOrigin *http.CrossOriginProtection
}

// New builds the console; Start serves it.
func New(cfg Config, q Queue, src Source) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, queue: q, src: src, log: cfg.Log.Named("console"), pages: p,
		sessions: newSessionStore(), links: newLinkStore(), done: make(chan struct{}),
		crossOrigin: http.NewCrossOriginProtection()}
	s.oidc = newOIDCLogin(cfg.OIDC, s.log)
	return s, nil
}

// Start listens on cfg.Listen with TLS and serves until Close.
func (s *Server) Start(ctx context.Context) error {
	cert, err := servingCert(s.cfg)
	if err != nil {
		return err
	}
	if s.leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
		return fmt.Errorf("console: parsing the serving certificate: %w", err)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("console: listening on %s: %w", s.cfg.Listen, err)
	}
	s.addr = ln.Addr()
	if s.cfg.URL == "" {
		s.cfg.URL = "https://" + ln.Addr().String()
	}
	s.oidc.setRedirect(s.cfg.URL + "/login/callback")
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: zap.NewStdLog(s.log)}
	tln := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	go func() {
		if err := s.srv.Serve(tln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("console stopped", zap.Error(err))
		}
	}()
	s.log.Info("console listening", zap.String("url", s.cfg.URL))
	return nil
}

// Certificate is the serving certificate (self-signed unless the operator
// gave one): what a browser on the host is told to trust.
func (s *Server) Certificate() *x509.Certificate { return s.leaf }

// URL is where reviewers reach the console.
func (s *Server) URL() string { return s.cfg.URL }

// Close stops serving; open event streams end.
func (s *Server) Close() error {
	s.stop.Do(func() { close(s.done) })
	if s.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		return s.srv.Close()
	}
	return nil
}

// MintLink returns a one-time sign-in link for who (the local operator who
// asked for it): it works once, within linkTTL.
func (s *Server) MintLink(who string) string {
	return s.cfg.URL + "/login/link?token=" + s.links.mint(who)
}
