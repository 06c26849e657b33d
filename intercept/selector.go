package intercept

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"
)

// TargetSink receives the whole target set on every change. *Loader
// implements it (SetTargets replaces the kernel's set without gaps).
type TargetSink interface {
	SetTargets([]Target) error
}

// Selector keeps the target set: the configured CIDRs plus the addresses
// the configured host names resolve to, re-resolved on their TTL. An
// address stays a target until its TTL has passed and a successful
// resolution no longer returns it; a failed resolution drops nothing.
// What a previous daemon left in the kernel (Adopt) stays until every host
// name has resolved once: a restart never opens a window in which the
// API's resolved addresses are not captured.
type Selector struct {
	cfg      Config
	resolver HostResolver
	sink     TargetSink
	log      *zap.Logger
	now      func() time.Time

	mu      sync.Mutex
	hosts   map[string]*hostState
	adopted []Target
}

type hostState struct {
	addrs    map[netip.Addr]time.Time // address -> expiry
	next     time.Time                // when to resolve again
	resolved bool                     // a resolution has succeeded
}

// NewSelector returns a Selector; call Refresh or Run to fill the sink.
func NewSelector(cfg Config, resolver HostResolver, sink TargetSink, log *zap.Logger) *Selector {
	if log == nil {
		log = zap.NewNop()
	}
	s := &Selector{cfg: cfg.WithDefaults(), resolver: resolver, sink: sink,
		log: log.Named("targets"), now: time.Now, hosts: map[string]*hostState{}}
	for _, h := range s.cfg.Hosts {
		s.hosts[h] = &hostState{addrs: map[netip.Addr]time.Time{}}
	}
	return s
}

// Adopt keeps ts (the kernel's set before this daemon started) in the set
// until every host name has resolved once.
func (s *Selector) Adopt(ts []Target) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.adopted = slices.Clone(ts)
}

// Run refreshes whenever a host name is due, until ctx is done.
func (s *Selector) Run(ctx context.Context) error {
	for {
		wait, err := s.Refresh(ctx)
		if err != nil {
			s.log.Warn("refreshing targets", zap.Error(err))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// Refresh resolves the host names that are due, pushes the merged set to
// the sink and returns how long until the next host is due.
func (s *Selector) Refresh(ctx context.Context) (time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	now := s.now()
	for host, st := range s.hosts {
		if now.Before(st.next) {
			continue
		}
		errs = append(errs, s.resolve(ctx, host, st, now))
	}
	if err := s.sink.SetTargets(s.targetsLocked()); err != nil {
		errs = append(errs, fmt.Errorf("updating target set: %w", err))
	}
	return s.nextDueLocked(now), errors.Join(errs...)
}

func (s *Selector) resolve(ctx context.Context, host string, st *hostState, now time.Time) error {
	addrs, ttl, err := s.resolver.Resolve(ctx, host)
	if err != nil {
		st.next = now.Add(MinTTL) // retry soon, keep what we had
		return err
	}
	for a, exp := range st.addrs {
		if !now.Before(exp) && !slices.Contains(addrs, a) {
			delete(st.addrs, a)
		}
	}
	for _, a := range addrs {
		st.addrs[a.Unmap()] = now.Add(ttl)
	}
	st.next, st.resolved = now.Add(ttl), true
	return nil
}

func (s *Selector) nextDueLocked(now time.Time) time.Duration {
	wait := MaxTTL
	for _, st := range s.hosts {
		wait = min(wait, max(st.next.Sub(now), time.Second))
	}
	return wait
}

// Targets is the set last pushed to the sink (CIDRs and resolved hosts,
// crossed with the ports).
func (s *Selector) Targets() []Target {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.targetsLocked()
}

func (s *Selector) targetsLocked() []Target {
	prefixes := slices.Clone(s.cfg.Targets)
	for _, st := range s.hosts {
		for a := range st.addrs {
			prefixes = append(prefixes, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	ts := ExpandTargets(prefixes, s.cfg.Ports)
	for _, st := range s.hosts {
		if !st.resolved { // until every host has answered, keep what was adopted
			return mergeTargets(ts, s.adopted)
		}
	}
	return ts
}

// mergeTargets is a followed by b's targets that a lacks, in order.
func mergeTargets(a, b []Target) []Target {
	out := slices.Clone(a)
	for _, t := range b {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
