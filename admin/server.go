// Package admin serves the operator API (approvals, audit, sessions, status)
// over a Unix socket that only root and one configured group may use, an
// optional token-protected TCP listener, and the Prometheus metrics.
package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"
)

// DefaultSocketPath is where the daemon listens and the CLI connects.
const DefaultSocketPath = "/run/airlock/admin.sock"

// ServerConfig configures the admin listeners.
type ServerConfig struct {
	SocketPath  string // default DefaultSocketPath
	SocketMode  os.FileMode
	Group       string // group (name or gid) whose members may use the socket besides root; "" = root only
	TCPAddr     string // optional remote listener; off when empty
	TCPToken    string // bearer token, required when TCPAddr is set
	MetricsAddr string // optional plain /metrics listener (loopback only)
	Log         *zap.Logger
}

// Server is the admin API.
type Server struct {
	cfg      ServerConfig
	deps     Deps
	log      *zap.Logger
	gid      uint32
	hasGroup bool
	mu       sync.Mutex
	servers  []*http.Server
	addrs    map[string]net.Addr
}

// NewServer builds the admin API; Start opens its listeners.
func NewServer(cfg ServerConfig, deps Deps) *Server {
	if cfg.SocketPath == "" {
		cfg.SocketPath = DefaultSocketPath
	}
	if cfg.SocketMode == 0 {
		cfg.SocketMode = 0o660
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if deps.Metrics == nil {
		deps.Metrics = NewMetrics()
	}
	return &Server{cfg: cfg, deps: deps, log: cfg.Log.Named("admin"), addrs: map[string]net.Addr{}}
}

// Start opens the Unix socket (and the optional TCP and metrics listeners) and
// serves them until Close.
func (s *Server) Start(ctx context.Context) error {
	if err := s.resolveGroup(); err != nil {
		return err
	}
	if s.cfg.TCPAddr != "" && s.cfg.TCPToken == "" {
		return errors.New("admin TCP listener requires a token")
	}
	ln, err := s.listenUnix()
	if err != nil {
		return err
	}
	s.serve("unix", ln, s.Handler())
	if s.cfg.TCPAddr != "" {
		if err := s.listenTCP(ctx, "tcp", s.cfg.TCPAddr, s.Handler()); err != nil {
			s.Close()
			return err
		}
	}
	if s.cfg.MetricsAddr != "" {
		if err := requireLoopback(s.cfg.MetricsAddr); err != nil {
			s.Close()
			return err
		}
		if err := s.listenTCP(ctx, "metrics", s.cfg.MetricsAddr, s.deps.Metrics.Handler()); err != nil {
			s.Close()
			return err
		}
	}
	return nil
}

// requireLoopback keeps the unauthenticated metrics port off the network.
func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("metrics address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("metrics address %q: must be a loopback address (the port has no authentication)", addr)
	}
	return nil
}

func (s *Server) resolveGroup() error {
	if s.cfg.Group == "" {
		return nil
	}
	gid, err := lookupGroup(s.cfg.Group)
	if err != nil {
		return err
	}
	s.gid, s.hasGroup = gid, true
	return nil
}

func (s *Server) listenUnix() (net.Listener, error) {
	path := s.cfg.SocketPath
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("creating admin socket directory: %w", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("removing stale admin socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listening on admin socket %s: %w", path, err)
	}
	gid := -1
	if s.hasGroup {
		gid = int(s.gid)
	}
	if err := chownSocket(path, gid, s.cfg.SocketMode); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

func (s *Server) listenTCP(ctx context.Context, name, addr string, h http.Handler) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listening for admin %s on %s: %w", name, addr, err)
	}
	s.serve(name, ln, h)
	return nil
}

func (s *Server) serve(name string, ln net.Listener, h http.Handler) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext:       s.connContext,
		ErrorLog:          zap.NewStdLog(s.log),
	}
	s.mu.Lock()
	s.servers = append(s.servers, srv)
	s.addrs[name] = ln.Addr()
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin listener stopped", zap.String("listener", name), zap.Error(err))
		}
	}()
	s.log.Info("admin listening", zap.String("listener", name), zap.String("addr", ln.Addr().String()))
}

// Addr returns the address of a started listener: "unix", "tcp" or "metrics".
func (s *Server) Addr(name string) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addrs[name]
}

// connContext attaches the peer's identity to every request on the connection.
func (s *Server) connContext(ctx context.Context, c net.Conn) context.Context {
	if _, ok := c.(*net.UnixConn); ok {
		return withPeer(ctx, unixPeer(c))
	}
	return withPeer(ctx, &Peer{Via: "tcp", Addr: c.RemoteAddr().String()})
}

// Close stops every listener and removes the socket file.
func (s *Server) Close() error {
	s.mu.Lock()
	servers := s.servers
	s.servers = nil
	s.mu.Unlock()
	var errs []error
	for _, srv := range servers {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, srv.Close())
		}
		cancel()
	}
	if err := os.Remove(s.cfg.SocketPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
