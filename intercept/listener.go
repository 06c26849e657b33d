package intercept

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/caller"
)

// Listener accepts redirected connections on the v4 and v6 listener
// addresses and dispatches each one: API SNIs to the APIHandler, any other
// SNI relayed unchanged to its original destination.
type Listener struct {
	cfg     Config
	lookup  RecordLookup
	handler APIHandler
	log     *zap.Logger
	lns     []net.Listener
	wg      sync.WaitGroup
}

// NewListener opens the listening sockets (in the caller's network
// namespace). lookup is usually the *Loader.
func NewListener(cfg Config, lookup RecordLookup, handler APIHandler, log *zap.Logger) (*Listener, error) {
	cfg = cfg.WithDefaults()
	if log == nil {
		log = zap.NewNop()
	}
	l := &Listener{cfg: cfg, lookup: lookup, handler: handler, log: log.Named("intercept")}
	ln4, err := net.Listen("tcp4", cfg.ListenV4.String())
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", cfg.ListenV4, err)
	}
	l.lns = append(l.lns, ln4)
	ln6, err := net.Listen("tcp6", cfg.ListenV6.String())
	if err != nil {
		// Hosts without IPv6: serve IPv4 only; Addrs reports no v6 address,
		// so the kernel refuses IPv6 targets instead of redirecting them.
		l.log.Warn("no IPv6 listener", zap.Stringer("addr", cfg.ListenV6), zap.Error(err))
		return l, nil
	}
	l.lns = append(l.lns, ln6)
	return l, nil
}

// Addrs are the bound listener addresses (with the real ports when the
// config asked for port 0): hand them to Loader.SetListeners. v6 is the
// zero AddrPort when IPv6 could not be served.
func (l *Listener) Addrs() (v4, v6 netip.AddrPort) {
	v4 = l.lns[0].Addr().(*net.TCPAddr).AddrPort()
	if len(l.lns) > 1 {
		v6 = l.lns[1].Addr().(*net.TCPAddr).AddrPort()
	}
	return v4, v6
}

// Serve accepts until ctx is done or Close is called, then waits for the
// connections in flight to be handed off.
func (l *Listener) Serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { <-ctx.Done(); l.closeListeners() }()
	errs := make(chan error, len(l.lns))
	for _, ln := range l.lns {
		go func() { errs <- l.acceptLoop(ctx, ln) }()
	}
	err := <-errs
	cancel()
	for range len(l.lns) - 1 {
		<-errs
	}
	l.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

func (l *Listener) acceptLoop(ctx context.Context, ln net.Listener) error {
	for {
		conn, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.handle(ctx, conn)
		}()
	}
}

// Close stops accepting; handed-off connections belong to their handlers.
func (l *Listener) Close() error {
	l.closeListeners()
	return nil
}

func (l *Listener) closeListeners() {
	for _, ln := range l.lns {
		ln.Close()
	}
}

func (l *Listener) handle(ctx context.Context, conn net.Conn) {
	accepted := time.Now()
	peer := conn.RemoteAddr().(*net.TCPAddr).AddrPort()
	log := l.log.With(zap.Stringer("peer", peer))
	rec, err := l.lookup.Lookup(peer)
	if err != nil {
		log.Warn("closing connection without a redirect record", zap.Error(err))
		conn.Close()
		return
	}
	_ = conn.SetReadDeadline(accepted.Add(l.cfg.PeekTimeout))
	sni, pc, err := peekSNI(conn, l.cfg.MaxClientHello)
	if err != nil {
		log.Warn("closing connection: no usable ClientHello", zap.Stringer("dst", rec.Dst), zap.Error(err))
		conn.Close()
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	origin := &caller.Origin{ConnID: newConnID(), Peer: peer, Dst: rec.Dst, SNI: sni,
		Process: ProcessOf(rec), Accepted: accepted}
	if l.isAPIHost(sni) {
		l.handler.ServeAPI(caller.NewContext(ctx, origin), pc, origin)
		return
	}
	l.relay(ctx, pc, origin, log)
}

func (l *Listener) isAPIHost(sni string) bool {
	return slices.ContainsFunc(l.cfg.APIHosts, func(h string) bool { return strings.EqualFold(h, sni) })
}

func newConnID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
