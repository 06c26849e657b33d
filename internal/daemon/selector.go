package daemon

import (
	"context"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/intercept"
)

// selectorRun is one target selector and its loop. SIGHUP replaces it with
// one built from the new targets, hosts and ports.
type selectorRun struct {
	sel    *intercept.Selector
	cancel context.CancelFunc
	done   chan struct{}
}

// startSelector pushes the initial target set (CIDRs now, host names as they
// resolve) and keeps it current until stopped.
func startSelector(parent context.Context, cfg intercept.Config, ic *intercept.Interceptor, log *zap.Logger) *selectorRun {
	ctx, cancel := context.WithCancel(parent)
	sel := intercept.NewSelector(cfg, intercept.SystemDNSResolver(), ic.Loader, log)
	r := &selectorRun{sel: sel, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		_ = sel.Run(ctx)
	}()
	return r
}

func (r *selectorRun) stop() {
	r.cancel()
	<-r.done
}

// targets is the set the selector last pushed to the kernel.
func (r *selectorRun) targets() []string {
	var out []string
	for _, t := range r.sel.Targets() {
		out = append(out, t.String())
	}
	return out
}
