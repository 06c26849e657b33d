package intercept

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/caller"
)

// Listener accepts redirected connections on the v4 and v6 listener
// addresses of one network namespace and dispatches each one: API SNIs to
// the APIHandler, SNIs of Config.RelayAllow relayed unchanged to their
// original destination, and every other connection refused. Relays and
// refusals go to the Reporter.
type Listener struct {
	cfg     Config
	lookup  RecordLookup
	handler APIHandler
	report  Reporter
	log     *zap.Logger
	lns     []net.Listener
	netns   uint64 // cookie of the namespace the sockets were created in
	wg      sync.WaitGroup
}

// NewListener opens the listening sockets (in the calling thread's network
// namespace). lookup is usually the *Loader; report may be nil (decisions
// are then only logged).
func NewListener(cfg Config, lookup RecordLookup, handler APIHandler, report Reporter, log *zap.Logger) (*Listener, error) {
	cfg = cfg.WithDefaults()
	if log == nil {
		log = zap.NewNop()
	}
	if report == nil {
		report = nopReporter{}
	}
	l := &Listener{cfg: cfg, lookup: lookup, handler: handler, report: report, log: log.Named("intercept")}
	ln4, err := l.listen("tcp4", cfg.ListenV4)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", cfg.ListenV4, err)
	}
	l.lns = append(l.lns, ln4)
	if l.netns, err = netnsOf(ln4); err != nil {
		ln4.Close()
		return nil, err
	}
	ln6, err := l.listen("tcp6", cfg.ListenV6)
	if err != nil {
		// Hosts without IPv6: serve IPv4 only; Addrs reports no v6 address,
		// so the kernel refuses IPv6 targets instead of redirecting them.
		l.log.Warn("no IPv6 listener", zap.Stringer("addr", cfg.ListenV6), zap.Error(err))
		return l, nil
	}
	l.lns = append(l.lns, ln6)
	return l, nil
}

// listen binds addr; in a container's namespace where the hold address
// cannot be bound (taken) it binds an ephemeral port instead: connections
// held there at first contact then time out (the kernel never lets them
// reach whoever holds the address), later ones are redirected here.
func (l *Listener) listen(network string, addr netip.AddrPort) (net.Listener, error) {
	ln, err := net.Listen(network, addr.String())
	if err == nil || !l.cfg.holdFallback {
		return ln, err
	}
	l.log.Warn("cannot bind the hold address in this namespace: listening on an ephemeral port, first contacts here will time out",
		zap.Stringer("addr", addr), zap.Error(err))
	return net.Listen(network, netip.AddrPortFrom(addr.Addr(), 0).String())
}

// Netns is the cookie of the network namespace the listener serves.
func (l *Listener) Netns() uint64 { return l.netns }

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
	peer := conn.RemoteAddr().(*net.TCPAddr).AddrPort()
	origin := &caller.Origin{ConnID: newConnID(), Peer: peer, Accepted: time.Now()}
	log := l.log.With(zap.Stringer("peer", peer))
	rec, err := l.lookup.Lookup(l.netns, peer)
	if err != nil {
		l.refuse(ctx, conn, DecisionRefusedNoRecord, origin, err, log)
		return
	}
	origin.Dst = rec.Dst
	_ = conn.SetReadDeadline(origin.Accepted.Add(l.cfg.PeekTimeout))
	sni, pc, err := peekSNI(conn, l.cfg.MaxClientHello)
	// /proc is read after the ClientHello, a moment the caller chooses:
	// ProcessOf checks it against the identity recorded at connect().
	origin.Process, origin.SNI = ProcessOf(rec), NormalizeSNI(sni)
	if err != nil {
		l.refuse(ctx, conn, DecisionRefusedSNI, origin, fmt.Errorf("no usable ClientHello: %w", err), log)
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	switch l.cfg.decide(origin.SNI) {
	case verdictAPI:
		l.serveAPI(ctx, pc, origin, sni, log)
	case verdictRelay:
		l.relay(ctx, pc, origin, log)
	default:
		l.refuse(ctx, conn, DecisionRefusedSNI, origin, errNotAPIHost, log)
	}
}

var errNotAPIHost = errors.New("server name is not an API host nor in capture.relay_allow")

// errTrailingDot: RFC 6066 §3 forbids the dot and crypto/tls rejects such a
// ClientHello outright; rewriting it would break the handshake transcript.
var errTrailingDot = errors.New("server name of an API host with a trailing dot: TLS forbids the dot, so it cannot be served")

// alertUnrecognizedName is a fatal TLS alert (unrecognized_name), so the
// client sees why the handshake ended.
var alertUnrecognizedName = []byte{21, 3, 3, 0, 2, 2, 112}

// serveAPI hands an API connection to the handler — unless its raw SNI
// carries the trailing dot, which no handshake can then complete: that
// one is refused here, on record, instead of failing unaudited later.
func (l *Listener) serveAPI(ctx context.Context, pc *peekedConn, o *caller.Origin, rawSNI string, log *zap.Logger) {
	if strings.HasSuffix(rawSNI, ".") {
		_, _ = pc.Write(alertUnrecognizedName)
		l.refuse(ctx, pc, DecisionRefusedSNI, o, errTrailingDot, log)
		return
	}
	l.handler.ServeAPI(caller.NewContext(ctx, o), pc, o)
}

// refuse closes conn and reports why.
func (l *Listener) refuse(ctx context.Context, conn net.Conn, kind string, o *caller.Origin, why error, log *zap.Logger) {
	conn.Close()
	log.Warn("refusing connection", zap.String("decision", kind), zap.String("sni", o.SNI),
		zap.Stringer("dst", o.Dst), zap.Int("pid", o.Process.PID), zap.Error(why))
	if err := l.report.Report(ctx, Decision{Kind: kind, Reason: why.Error(), Origin: o}); err != nil {
		log.Error("recording a refusal", zap.Error(err))
	}
}

func newConnID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
