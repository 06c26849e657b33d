package approval

import (
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/caller"
)

// Approve lets the held request id through. With window > 0 it also opens a
// just-in-time window: later requests from the same caller under the same
// rule pass without a hold until the window closes.
func (b *Broker) Approve(id, approver, reason string, window time.Duration) error {
	out := Outcome{ID: id, Approved: true, Approver: approver, Reason: reason}
	if window > 0 {
		out.Until = b.cfg.Now().Add(window)
	}
	return b.decide(id, out)
}

// Deny refuses the held request id. Deny wins: a denial that arrives after an
// approval but before the held request resumed still refuses it, and it closes
// any just-in-time window for the same caller and rule.
func (b *Broker) Deny(id, approver, reason string) error {
	return b.decide(id, Outcome{ID: id, Approver: approver, Reason: reason})
}

func (b *Broker) decide(id string, out Outcome) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	h, ok := b.pending[id]
	if s, settled := b.settled[id]; !ok && settled {
		return fmt.Errorf("approval %q was already %s: %w", id, describe(s.Outcome), ErrDecided)
	}
	if !ok {
		return fmt.Errorf("approval %q: %w", id, ErrNotFound)
	}
	if h.consumed || (h.decided && (out.Approved || out.TimedOut || !h.outcome.Approved)) {
		return fmt.Errorf("approval %q: %w", id, ErrDecided)
	}
	first := !h.decided
	h.decided, h.outcome = true, out
	b.applyWindow(h, out)
	if first {
		close(h.done)
	}
	b.log.Info("approval decided", zap.String("approval_id", id), zap.Bool("approved", out.Approved),
		zap.String("approver", out.Approver), zap.Bool("timed_out", out.TimedOut))
	if b.cfg.OnDecided != nil {
		b.cfg.OnDecided(out)
	}
	return nil
}

// applyWindow opens or (on denial) revokes the JIT window; b.mu is held.
func (b *Broker) applyWindow(h *hold, out Outcome) {
	key := windowKey(h.Request)
	switch {
	case !out.Approved:
		delete(b.windows, key)
	case !out.Until.IsZero():
		b.windows[key] = window{id: h.ID, until: out.Until, by: out.Approver}
	}
}

// fromWindow answers req from a live JIT window, if there is one.
func (b *Broker) fromWindow(req Request) (Outcome, bool) {
	key := windowKey(req)
	b.mu.Lock()
	defer b.mu.Unlock()
	w, ok := b.windows[key]
	if !ok {
		return Outcome{}, false
	}
	if !b.cfg.Now().Before(w.until) {
		delete(b.windows, key)
		return Outcome{}, false
	}
	return Outcome{ID: w.id, Approved: true, Approver: "window:" + w.id,
		Reason: "just-in-time window granted by " + w.by, Until: w.until}, true
}

// windowKey identifies "the same caller and rule": the identity that survives
// across invocations of the same program (not the pid).
func windowKey(r Request) string {
	return strings.Join([]string{fmt.Sprint(r.Caller.UID), r.Caller.Exe, callerScope(r.Caller), r.Rule}, "\x00")
}

func callerScope(p caller.Process) string {
	return fmt.Sprintf("%d|%s|%s|%s", p.CgroupID, p.Cgroup, p.Unit, p.Container)
}

// describe says how a settled approval ended, for an operator who came late.
func describe(o Outcome) string {
	switch {
	case o.TimedOut:
		return "denied: it timed out"
	case o.Approved:
		return "approved by " + o.Approver
	}
	return "denied by " + o.Approver
}
