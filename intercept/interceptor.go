package intercept

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
)

// Interceptor is capture assembled: the Loader (kernel side), the Listener
// in the daemon's namespace, the Namespaces served by listeners of their
// own, and the target selection that Run keeps current and Retarget
// replaces.
type Interceptor struct {
	Loader     *Loader
	Listener   *Listener
	Namespaces *Namespaces

	cfg      Config
	log      *zap.Logger
	mu       sync.Mutex
	sel      *Selector
	retarget chan struct{} // Run restarts selection with the new Selector
}

// New loads (or adopts) the eBPF programs, opens the listener, points the
// kernel at it and computes the initial target set (CIDRs and a previous
// daemon's pinned set at once, host names on the first Run). Relays and
// refusals go to report (may be nil).
func New(cfg Config, handler APIHandler, report Reporter, log *zap.Logger) (*Interceptor, error) {
	cfg = cfg.WithDefaults()
	loader, err := Load(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := NewListener(cfg, loader, handler, report, log)
	if err != nil {
		loader.Close()
		return nil, err
	}
	if err := loader.SetListeners(ln.Addrs()); err != nil {
		ln.Close()
		loader.Close()
		return nil, err
	}
	sel := NewSelector(cfg, SystemDNSResolver(), loader, log)
	// A previous daemon's pinned set holds the API's resolved addresses;
	// replacing it with the CIDRs alone would let connections to them pass
	// uncaptured until the first resolution.
	adopted, err := loader.Targets()
	if err != nil {
		ln.Close()
		loader.Close()
		return nil, fmt.Errorf("reading the adopted target set: %w", err)
	}
	sel.Adopt(adopted)
	if err := loader.SetTargets(sel.Targets()); err != nil {
		ln.Close()
		loader.Close()
		return nil, err
	}
	nss, err := NewNamespaces(cfg, loader, handler, report, log)
	if err != nil {
		ln.Close()
		loader.Close()
		return nil, err
	}
	return &Interceptor{Loader: loader, Listener: ln, Namespaces: nss, cfg: cfg, log: log, sel: sel,
		retarget: make(chan struct{}, 1)}, nil
}

// Run serves connections (in the daemon's namespace and in the captured
// processes' own), and keeps the target set current, until ctx is done or
// one of them fails.
func (i *Interceptor) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { i.runSelection(ctx); return nil })
	g.Go(func() error {
		if err := i.Namespaces.Run(ctx); err != nil {
			return fmt.Errorf("serving network namespaces: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		if err := i.Listener.Serve(ctx); err != nil {
			return fmt.Errorf("capture listener: %w", err)
		}
		return nil
	})
	return g.Wait()
}

// Retarget replaces what is redirected (CIDRs, host names, ports): the
// running selection restarts with them at once, resolving the new names.
func (i *Interceptor) Retarget(targets []netip.Prefix, hosts []string, ports []uint16) {
	cfg := i.cfg
	cfg.Targets, cfg.Hosts, cfg.Ports = targets, hosts, ports
	sel := NewSelector(cfg, SystemDNSResolver(), i.Loader, i.log)
	i.mu.Lock()
	i.sel = sel
	i.mu.Unlock()
	select {
	case i.retarget <- struct{}{}:
	default: // a restart is already due; it picks up sel
	}
}

// Targets is the set last pushed to the kernel.
func (i *Interceptor) Targets() []Target { return i.selector().Targets() }

func (i *Interceptor) selector() *Selector {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.sel
}

// runSelection runs the current Selector until ctx ends, restarting it
// whenever Retarget replaced it.
func (i *Interceptor) runSelection(ctx context.Context) {
	for {
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func(sel *Selector) { defer close(done); _ = sel.Run(sctx) }(i.selector())
		select {
		case <-ctx.Done():
		case <-i.retarget:
		}
		cancel()
		<-done
		if ctx.Err() != nil {
			return
		}
	}
}

// Close stops listening and releases handles; the pinned programs stay,
// so Claude-bound connections are refused until a daemon adopts them.
func (i *Interceptor) Close() error {
	return errors.Join(i.Listener.Close(), i.Namespaces.Close(), i.Loader.Close())
}

// Detach stops listening and removes every link and pin (fail-open exit,
// uninstall).
func (i *Interceptor) Detach() error {
	return errors.Join(i.Listener.Close(), i.Namespaces.Close(), i.Loader.Detach())
}
