//go:build linux

package intercept

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// Namespaces serves every network namespace under the captured cgroup other
// than the daemon's own: inside each it opens a Listener (a socket keeps the
// namespace it was created in) and tells the kernel where it is. A namespace
// is found proactively (cgroup events) or at first contact (the kernel
// refused a connection from it and reported its cookie); it is released
// when no captured process is left in it.
type Namespaces struct {
	loader  *Loader
	cfg     Config
	handler APIHandler
	report  Reporter
	log     *zap.Logger
	hostIno uint64

	mu      sync.Mutex
	byIno   map[uint64]*served
	pending map[uint64]*pending      // netns inode -> a failed open and when to try again
	stopRun context.CancelFunc       // ends Run (set by Run)
	onOpen  func(ns OpenedNamespace) // called (in its own goroutine) for each namespace opened
	closed  bool
	wg      sync.WaitGroup

	opened, released, firstContact, failures, overLimit atomic.Uint64
}

// served is one namespace's listener and the process that anchors it.
type served struct {
	ino, cookie uint64
	ln          *Listener
	anchor      *os.File // pidfd of a captured process inside the namespace
	anchorPID   int
	cancel      context.CancelFunc
	done        chan struct{}
}

// After an open fails, the namespace is left alone for netnsRetry, or for
// netnsRetrySoon when it was not ready yet (notReady). A report during that
// time is not dropped: the namespace is tried again when it ends, with the
// last process that reported it, so a first contact held there is served.
const (
	netnsRetry     = time.Second
	netnsRetrySoon = 50 * time.Millisecond
)

// pending is a namespace whose open failed.
type pending struct {
	at    time.Time   // not tried again before this
	pid   int         // the last process that reported it meanwhile
	timer *time.Timer // the try at at, once a report came
}

// NewNamespaces prepares namespace serving for loader; Run starts it.
func NewNamespaces(cfg Config, loader *Loader, handler APIHandler, report Reporter, log *zap.Logger) (*Namespaces, error) {
	ino, err := netnsInode(os.Getpid())
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Namespaces{loader: loader, cfg: cfg.WithDefaults(), handler: handler, report: report, log: log.Named("netns"),
		hostIno: ino, byIno: map[uint64]*served{}, pending: map[uint64]*pending{}}, nil
}

// OnOpen registers f, called for each namespace opened from now on (the
// daemon provisions a container's trust there). Call before Run.
func (n *Namespaces) OnOpen(f func(ns OpenedNamespace)) {
	n.mu.Lock()
	n.onOpen = f
	n.mu.Unlock()
}

// Stats reports the namespaces served and the first-contact figures.
func (n *Namespaces) Stats() NamespaceStats {
	n.mu.Lock()
	s := NamespaceStats{Served: len(n.byIno)}
	n.mu.Unlock()
	s.Opened, s.Released = n.opened.Load(), n.released.Load()
	s.FirstContact, s.Failures, s.OverLimit = n.firstContact.Load(), n.failures.Load(), n.overLimit.Load()
	if c, err := n.loader.NetnsCounters(); err == nil {
		s.Refused, s.Held, s.HeldPassed = c.Refused, c.Held, c.HeldPassed
	}
	return s
}

// Ensure serves the network namespace pid is in, unless it is the daemon's
// own or already served. It is safe to call for any pid under the captured
// cgroup, from any goroutine.
func (n *Namespaces) Ensure(ctx context.Context, pid int) error {
	ino, err := netnsInode(pid)
	if err != nil || ino == n.hostIno {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.byIno[ino]; ok || n.closed || ctx.Err() != nil {
		return nil // a retry timer firing during Close opens nothing Close would not release
	}
	if p := n.pending[ino]; p != nil && time.Now().Before(p.at) {
		n.tryAgain(ctx, ino, p, pid)
		return nil
	}
	if len(n.byIno) >= n.cfg.MaxNamespaces {
		return fmt.Errorf("netns of pid %d: %w (%d served)", pid, ErrTooManyNamespaces, len(n.byIno))
	}
	s, err := n.open(pid, ino)
	if err != nil {
		n.failed(ino, err)
		return err
	}
	delete(n.pending, ino)
	n.byIno[ino] = s
	n.start(ctx, s)
	if f := n.onOpen; f != nil {
		go f(OpenedNamespace{PID: pid, Cookie: s.cookie, Inode: ino})
	}
	return nil
}

// failed notes a failed open of ino, and forgets the failures nobody
// reported again (a namespace gone, or its inode reused). Called with n.mu
// held.
func (n *Namespaces) failed(ino uint64, err error) {
	n.failures.Add(1)
	now, wait := time.Now(), netnsRetry
	if notReady(err) {
		wait = netnsRetrySoon
	}
	for k, p := range n.pending {
		if p.timer == nil && now.After(p.at) {
			delete(n.pending, k)
		}
	}
	n.pending[ino] = &pending{at: now.Add(wait)}
}

// notReady: the open failed for a reason of the moment, not of the
// namespace. Its loopback had no address (an IPv4 bind on 127/8 fails for
// an instant while a runtime brings lo up), or the process that reported
// it has exited.
func notReady(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, os.ErrProcessDone) ||
		errors.Is(err, syscall.ESRCH) || errors.Is(err, fs.ErrNotExist)
}

// tryAgain schedules one more open of ino when p's wait ends, with the last
// process that reported it by then. Called with n.mu held.
func (n *Namespaces) tryAgain(ctx context.Context, ino uint64, p *pending, pid int) {
	p.pid = pid
	if p.timer != nil {
		return
	}
	p.timer = time.AfterFunc(time.Until(p.at), func() {
		n.mu.Lock()
		pid := p.pid
		p.timer = nil
		n.mu.Unlock()
		n.ensureLogged(ctx, pid)
	})
}

// open creates the listener inside pid's namespace and registers it with
// the kernel. Called with n.mu held.
func (n *Namespaces) open(pid int, ino uint64) (*served, error) {
	pidfd, err := openPidfd(pid)
	if err != nil {
		return nil, err
	}
	ln, err := listenInNetns(pid, pidfd, n.cfg, n.loader, n.handler, n.report, n.log)
	if err != nil {
		pidfd.Close()
		return nil, fmt.Errorf("listening in the netns of pid %d: %w", pid, err)
	}
	v4, v6 := ln.Addrs()
	if err := n.loader.SetNetnsListener(ln.Netns(), v4, v6); err != nil {
		ln.Close()
		pidfd.Close()
		return nil, err
	}
	n.opened.Add(1)
	n.log.Info("serving network namespace", zap.Uint64("netns", ln.Netns()), zap.Uint64("netns_inode", ino),
		zap.Int("pid", pid), zap.Stringer("listen_v4", v4), zap.Stringer("listen_v6", v6))
	return &served{ino: ino, cookie: ln.Netns(), ln: ln, anchor: pidfd, anchorPID: pid}, nil
}

// start serves s's listener and watches its anchor process.
func (n *Namespaces) start(ctx context.Context, s *served) {
	sctx, cancel := context.WithCancel(ctx)
	s.cancel, s.done = cancel, make(chan struct{})
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		defer close(s.done)
		if err := s.ln.Serve(sctx); err != nil {
			n.log.Warn("namespace listener stopped", zap.Uint64("netns", s.cookie), zap.Error(err))
		}
	}()
	go func() {
		defer n.wg.Done()
		n.watch(sctx, s)
	}()
}

// watch waits for the anchor to exit, then moves the anchor to another
// captured process in the namespace or, when none is left, releases it.
func (n *Namespaces) watch(ctx context.Context, s *served) {
	for {
		if err := waitExit(s.anchor); err != nil || ctx.Err() != nil {
			return // closed: released by someone else
		}
		if !n.reanchor(s) {
			n.release(s, "no captured process left")
			return
		}
	}
}

// reanchor finds another captured process in s's namespace.
func (n *Namespaces) reanchor(s *served) bool {
	for _, pid := range capturedPIDs(n.loader.CgroupPath()) {
		if ino, err := netnsInode(pid); err != nil || ino != s.ino {
			continue
		}
		pidfd, err := openPidfd(pid)
		if err != nil {
			continue
		}
		if ino, err := netnsInode(pid); err != nil || ino != s.ino { // pid reused meanwhile
			pidfd.Close()
			continue
		}
		n.mu.Lock()
		if n.byIno[s.ino] != s { // released meanwhile
			n.mu.Unlock()
			pidfd.Close()
			return false
		}
		old := s.anchor
		s.anchor, s.anchorPID = pidfd, pid
		n.mu.Unlock()
		old.Close()
		return true
	}
	return false
}

// release forgets a namespace: the kernel first (its next connection is
// refused and reported again), then the listener.
func (n *Namespaces) release(s *served, why string) {
	n.mu.Lock()
	if n.byIno[s.ino] != s {
		n.mu.Unlock()
		return
	}
	delete(n.byIno, s.ino)
	anchor := s.anchor
	n.mu.Unlock()
	if err := n.loader.DeleteNetnsListener(s.cookie); err != nil {
		n.log.Warn("forgetting namespace listener", zap.Uint64("netns", s.cookie), zap.Error(err))
	}
	s.cancel()
	s.ln.Close()
	<-s.done
	anchor.Close() // ends watch
	n.released.Add(1)
	n.log.Info("released network namespace", zap.Uint64("netns", s.cookie), zap.String("why", why))
}

// Close stops Run, releases every namespace and waits for their goroutines.
func (n *Namespaces) Close() error {
	n.mu.Lock()
	n.closed = true
	if n.stopRun != nil {
		n.stopRun()
	}
	for _, p := range n.pending {
		if p.timer != nil {
			p.timer.Stop()
		}
	}
	all := make([]*served, 0, len(n.byIno))
	for _, s := range n.byIno {
		all = append(all, s)
	}
	// Refuse first contacts at once rather than hold them for a listener
	// nobody will open.
	herr := n.loader.SetHold(netip.AddrPort{}, netip.AddrPort{})
	n.mu.Unlock()
	for _, s := range all {
		n.release(s, "daemon stopping")
	}
	n.wg.Wait()
	return herr
}

// ErrTooManyNamespaces bounds what a process that creates namespaces in a
// loop can make the daemon open. A first contact from a namespace past the
// bound is held like any other and, with no listener ever registered there,
// times out in connect(): it never goes where it was going.
var ErrTooManyNamespaces = errors.New("too many network namespaces served")
