package intercept

import (
	"context"
	"errors"

	"go.uber.org/zap"
)

// Interceptor is capture assembled: the Loader (kernel side), the Listener
// in the daemon's namespace, the Namespaces served by listeners of their
// own, and the Selector that keeps the target set current.
type Interceptor struct {
	Loader     *Loader
	Listener   *Listener
	Namespaces *Namespaces
	Selector   *Selector
}

// New loads (or adopts) the eBPF programs, opens the listener, points the
// kernel at it and computes the initial target set (CIDRs at once, host
// names on the first Run). Relays and refusals go to report (may be nil).
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
	if err := loader.SetTargets(ExpandTargets(cfg.Targets, cfg.Ports)); err != nil {
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
	return &Interceptor{Loader: loader, Listener: ln, Namespaces: nss, Selector: sel}, nil
}

// Run serves connections and keeps host names resolved until ctx is done.
func (i *Interceptor) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = i.Selector.Run(ctx) }()
	go func() { _ = i.Namespaces.Run(ctx) }()
	return i.Listener.Serve(ctx)
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
