package approval

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"
)

// DefaultTimeout is how long a request is held when Config.Timeout is zero:
// well inside the SDKs' 10-minute request timeout, so the client sees our
// denial rather than its own timeout.
const DefaultTimeout = 2 * time.Minute

var (
	// ErrNotFound: no pending approval has this id (never existed, or already resolved and consumed).
	ErrNotFound = errors.New("approval not found")
	// ErrDecided: the approval was already decided; decisions are single-use.
	ErrDecided = errors.New("approval already decided")
)

// Config configures a Broker.
type Config struct {
	Timeout  time.Duration // how long a request is held before it is denied; 0 means DefaultTimeout
	Webhooks []Webhook     // announced for every new pending approval
	Log      *zap.Logger
	Now      func() time.Time // for tests; nil means time.Now
	// OnPending, if set, is told of each new hold before the request waits
	// (e.g. for e2e tests or a UI); it must not block.
	OnPending func(Pending)
	// OnDecided, if set, is told of each decision (an operator's or the
	// timeout's) as it is recorded, e.g. to settle it in a fleet's central
	// queue; it is called with the broker's lock held and must not block.
	OnDecided func(Outcome)
}

// Pending is a held request as an operator sees it.
type Pending struct {
	ID      string    `json:"id"`
	Request Request   `json:"request"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	Command string    `json:"command"` // the exact CLI command that approves it
}

// Broker holds requests until they are approved, denied or expire.
type Broker struct {
	cfg     Config
	log     *zap.Logger
	hooks   *notifier
	mu      sync.Mutex
	pending map[string]*hold
	windows map[string]window // caller+rule key -> just-in-time window
	// settled remembers recent outcomes for a while after their requests
	// resumed, so a late decision is told who decided rather than "not found".
	settled map[string]settledOutcome
}

type settledOutcome struct {
	Outcome
	forget time.Time
}

// hold is one waiting request; done is closed once a decision is recorded.
type hold struct {
	Pending
	done     chan struct{}
	decided  bool
	outcome  Outcome
	consumed bool
}

type window struct {
	id    string // the approval that opened it
	until time.Time
	by    string
}

// NewBroker returns a Broker ready to hold requests.
func NewBroker(cfg Config) *Broker {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Log.Named("approval")
	return &Broker{
		cfg:     cfg,
		log:     log,
		hooks:   newNotifier(cfg.Webhooks, log),
		pending: make(map[string]*hold),
		windows: make(map[string]window),
		settled: make(map[string]settledOutcome),
	}
}

// Close stops webhook delivery; pending holds keep their own timers.
func (b *Broker) Close() error {
	b.hooks.close()
	return nil
}

// ApproveCommand is the CLI command an operator runs to approve id.
func ApproveCommand(id string) string { return "airlock approvals approve " + id }

// Await holds req until an operator decides, the hold expires (a denial with
// TimedOut set) or ctx is done (ctx.Err()). A live just-in-time window for the
// same caller and rule answers at once without a hold.
func (b *Broker) Await(ctx context.Context, req Request) (Outcome, error) {
	if out, ok := b.fromWindow(req); ok {
		return out, nil
	}
	h := b.register(req)
	b.log.Info("request held for approval", zap.String("approval_id", h.ID),
		zap.String("rule", req.Rule), zap.Uint32("uid", req.Caller.UID), zap.String("exe", req.Caller.Exe))
	b.hooks.announce(h.Pending)
	if b.cfg.OnPending != nil {
		b.cfg.OnPending(h.Pending)
	}
	timer := time.NewTimer(h.Expires.Sub(b.cfg.Now()))
	defer timer.Stop()
	select {
	case <-h.done:
	case <-timer.C:
		b.decide(h.ID, Outcome{ID: h.ID, Approver: "timeout", Reason: "no decision before the approval expired", TimedOut: true})
	case <-ctx.Done():
		b.remove(h.ID)
		return Outcome{ID: h.ID}, fmt.Errorf("waiting for approval %s: %w", h.ID, ctx.Err())
	}
	return b.consume(h), nil
}

func (b *Broker) register(req Request) *hold {
	now := b.cfg.Now()
	id := newID()
	h := &hold{
		Pending: Pending{ID: id, Request: req, Created: now, Expires: now.Add(b.cfg.Timeout), Command: ApproveCommand(id)},
		done:    make(chan struct{}),
	}
	b.mu.Lock()
	b.pending[id] = h
	b.mu.Unlock()
	return h
}

// consume takes the final outcome and forgets the hold: a decision is used once.
func (b *Broker) consume(h *hold) Outcome {
	b.mu.Lock()
	defer b.mu.Unlock()
	h.consumed = true
	delete(b.pending, h.ID)
	now := b.cfg.Now()
	for id, s := range b.settled {
		if now.After(s.forget) {
			delete(b.settled, id)
		}
	}
	b.settled[h.ID] = settledOutcome{Outcome: h.outcome, forget: now.Add(b.cfg.Timeout)}
	return h.outcome
}

func (b *Broker) remove(id string) {
	b.mu.Lock()
	delete(b.pending, id)
	b.mu.Unlock()
}

// List returns the requests currently waiting, oldest first.
func (b *Broker) List() []Pending {
	b.mu.Lock()
	out := make([]Pending, 0, len(b.pending))
	for _, h := range b.pending {
		if !h.decided {
			out = append(out, h.Pending)
		}
	}
	b.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out
}

// Count is the number of requests waiting for a decision (for metrics).
func (b *Broker) Count() int { return len(b.List()) }

// Get returns the pending approval id.
func (b *Broker) Get(id string) (Pending, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h, ok := b.pending[id]
	if !ok {
		return Pending{}, fmt.Errorf("approval %q: %w", id, ErrNotFound)
	}
	return h.Pending, nil
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
