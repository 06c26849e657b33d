package tlsmitm

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/caller"
)

// ServerConfig configures the TLS server that terminates intercepted API
// connections. Zero durations take the defaults below.
type ServerConfig struct {
	Authority         *Authority
	Hosts             []string     // SNI names served; empty means all of Authority's hosts
	Handler           http.Handler // the policy layer (ForwardHandler until the gateway exists)
	HandshakeTimeout  time.Duration
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	LeafCacheSize     int // DefaultLeafCacheSize when <= 0
	Log               *zap.Logger
}

// Defaults for ServerConfig's zero durations.
const (
	DefaultHandshakeTimeout  = 10 * time.Second
	DefaultReadHeaderTimeout = 30 * time.Second
	DefaultIdleTimeout       = 5 * time.Minute
)

// Server terminates TLS on intercepted connections and serves the decrypted
// HTTP/1.1 and HTTP/2 traffic with one http.Server into the configured
// Handler; each request's context carries the connection's caller.Origin.
type Server struct {
	cfg    ServerConfig
	log    *zap.Logger
	leaves *Leaves
	tls    *tls.Config
	http   *http.Server
	ln     *connListener
	conns  sync.Map      // *tls.Conn → *servedConn
	served chan struct{} // closed when the HTTP loop has returned
}

// servedConn is what the http.Server hooks need to know about a connection.
type servedConn struct {
	origin *caller.Origin
	done   chan struct{}
	once   sync.Once
}

// NewServer builds the server and starts its HTTP loop; Shutdown stops it.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Authority == nil || cfg.Handler == nil {
		return nil, errors.New("tlsmitm server: Authority and Handler are required")
	}
	cfg = withServerDefaults(cfg)
	for _, h := range cfg.Hosts {
		if !cfg.Authority.Allowed(h) {
			return nil, fmt.Errorf("tlsmitm server: host %q: %w", h, ErrHostNotAllowed)
		}
	}
	s := &Server{cfg: cfg, log: cfg.Log.Named("tls"), leaves: NewLeaves(cfg.Authority, cfg.LeafCacheSize),
		ln: newConnListener(), served: make(chan struct{})}
	s.tls = s.tlsConfig()
	s.http = &http.Server{
		Handler:           cfg.Handler,
		TLSConfig:         s.tls,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ConnContext:       s.connContext,
		ConnState:         s.connState,
		ErrorLog:          zap.NewStdLog(s.log.Named("http")),
	}
	go func() { defer close(s.served); s.http.Serve(s.ln) }()
	return s, nil
}

func withServerDefaults(cfg ServerConfig) ServerConfig {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	cfg.Hosts = normalizeHosts(cfg.Hosts)
	if len(cfg.Hosts) == 0 {
		cfg.Hosts = cfg.Authority.Hosts()
	}
	cfg.HandshakeTimeout = cmpOr(cfg.HandshakeTimeout, DefaultHandshakeTimeout)
	cfg.ReadHeaderTimeout = cmpOr(cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	cfg.IdleTimeout = cmpOr(cfg.IdleTimeout, DefaultIdleTimeout)
	return cfg
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// tlsConfig: TLS 1.2+, ALPN h2 then http/1.1, session tickets on (the
// default, with automatically rotated keys), leaves minted by SNI.
func (s *Server) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"h2", "http/1.1"},
		GetCertificate: s.getCertificate,
	}
}

func (s *Server) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	if !slices.Contains(s.cfg.Hosts, name) {
		return nil, fmt.Errorf("sni %q: %w", hello.ServerName, ErrHostNotAllowed)
	}
	return s.leaves.Get(name)
}

// Leaves exposes the server's leaf cache (for metrics and benchmarks).
func (s *Server) Leaves() *Leaves { return s.leaves }

// ServeAPI terminates TLS on conn and serves it until the client or server
// closes it, Shutdown drains it, or ctx is cancelled (which closes it).
// ServeAPI owns conn: it is always closed when ServeAPI returns.
// It implements intercept.APIHandler.
func (s *Server) ServeAPI(ctx context.Context, conn net.Conn, origin *caller.Origin) {
	if origin == nil {
		origin = &caller.Origin{}
	}
	ac := &alertConn{Conn: conn}
	tc := tls.Server(ac, s.tls)
	if err := s.handshake(ctx, tc); err != nil {
		if alert, ok := ac.rejectedCert(); ok {
			err = alert
		}
		s.logHandshakeFailure(origin, err)
		tc.Close()
		return
	}
	sc := &servedConn{origin: origin, done: make(chan struct{})}
	s.conns.Store(tc, sc)
	if !s.ln.push(ctx, tc) {
		s.conns.Delete(tc)
		tc.Close()
		return
	}
	select {
	case <-sc.done:
	case <-ctx.Done():
		tc.Close()
		<-sc.done
	}
}

func (s *Server) handshake(ctx context.Context, tc *tls.Conn) error {
	hctx, cancel := context.WithTimeout(ctx, s.cfg.HandshakeTimeout)
	defer cancel()
	return tc.HandshakeContext(hctx)
}

func (s *Server) connContext(ctx context.Context, c net.Conn) context.Context {
	if v, ok := s.conns.Load(c); ok {
		return caller.NewContext(ctx, v.(*servedConn).origin)
	}
	return ctx
}

func (s *Server) connState(c net.Conn, state http.ConnState) {
	if state != http.StateClosed && state != http.StateHijacked {
		return
	}
	if v, ok := s.conns.LoadAndDelete(c); ok {
		sc := v.(*servedConn)
		sc.once.Do(func() { close(sc.done) })
	}
}

// Shutdown stops accepting connections and waits, up to ctx, for in-flight
// requests and streams to finish; then it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if err != nil {
		s.http.Close()
	}
	<-s.served
	return err
}

// Close closes every connection immediately.
func (s *Server) Close() error {
	err := s.http.Close()
	<-s.served
	return err
}
