package central

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/policy/approval"
)

// Decider is the local approval broker a Relay hands central decisions to.
type Decider interface {
	Approve(id, approver, reason string, window time.Duration) error
	Deny(id, approver, reason string) error
}

// Relay connects one host's approval broker to the central queue: it
// publishes each hold, learns central decisions within a second
// (LISTEN/NOTIFY, with polling as the fallback) and settles holds decided
// locally. When PostgreSQL is unreachable the local queue keeps working,
// and the relay says so and keeps trying.
type Relay struct {
	DB     *DB
	Broker Decider
	Host   string
	Poll   time.Duration // fallback poll interval; 0 = 1s
	Log    *zap.Logger

	events chan relayEvent
}

type relayEvent struct {
	pending *approval.Pending
	settled *approval.Outcome
}

// NewRelay returns a relay; wire Announce and Settled into the broker's
// OnPending and OnDecided hooks, then Run it.
func NewRelay(db *DB, broker Decider, host string, log *zap.Logger) *Relay {
	if log == nil {
		log = zap.NewNop()
	}
	return &Relay{DB: db, Broker: broker, Host: host, Poll: time.Second, Log: log.Named("central"),
		events: make(chan relayEvent, 1024)}
}

// Announce queues a new hold for publication; it never blocks the request.
func (r *Relay) Announce(p approval.Pending) { r.enqueue(relayEvent{pending: &p}) }

// Settled queues a local outcome; it never blocks.
func (r *Relay) Settled(out approval.Outcome) {
	if strings.HasPrefix(out.Approver, "central:") {
		return // decided centrally: the database has it already
	}
	r.enqueue(relayEvent{settled: &out})
}

func (r *Relay) enqueue(e relayEvent) {
	select {
	case r.events <- e:
	default:
		r.Log.Warn("central approval queue full; this hold is decided locally only")
	}
}

// Run serves until ctx ends.
func (r *Relay) Run(ctx context.Context) {
	wake := make(chan struct{}, 1)
	go r.listen(ctx, wake)
	tick := time.NewTicker(r.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-r.events:
			r.publish(ctx, e)
		case <-wake:
			r.apply(ctx)
		case <-tick.C:
			r.apply(ctx)
		}
	}
}

func (r *Relay) publish(ctx context.Context, e relayEvent) {
	var err error
	if e.pending != nil {
		err = r.DB.Publish(ctx, r.Host, *e.pending)
	} else {
		err = r.DB.Settle(ctx, *e.settled)
	}
	if err != nil && ctx.Err() == nil {
		r.Log.Warn("central approvals unreachable: the local queue keeps working (airlock approvals on this host)", zap.Error(err))
	}
}

// apply hands central decisions to the local broker. An approval is claimed
// (marked applied) before the held request is released, so a denial racing
// it either replaces it first or is told it came too late: the central
// record always says what happened to the request.
func (r *Relay) apply(ctx context.Context) {
	ds, err := r.DB.decided(ctx, r.Host)
	if err != nil {
		return // publish logs an unreachable database; the poll retries
	}
	for _, d := range ds {
		if claimed, err := r.DB.markApplied(ctx, d.ID, d.Decision); err != nil || !claimed {
			continue // replaced by a denial meanwhile: acted on at the next pass
		}
		by := "central:" + d.DecidedBy
		if d.Decision == DecisionApprove {
			err = r.Broker.Approve(d.ID, by, d.Note, d.Window)
		} else {
			err = r.Broker.Deny(d.ID, by, d.Note)
		}
		if err != nil && !errors.Is(err, approval.ErrNotFound) && !errors.Is(err, approval.ErrDecided) {
			r.Log.Warn("applying a central decision", zap.String("approval_id", d.ID), zap.Error(err))
		}
	}
}

// listen wakes the relay on each NOTIFY; on a lost connection it reconnects
// with backoff, and the poll covers the gap.
func (r *Relay) listen(ctx context.Context, wake chan<- struct{}) {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		err := r.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		backoff = nextBackoff(backoff)
		r.Log.Debug("central approval notifications interrupted; polling meanwhile", zap.Error(err))
		sleep(ctx, backoff)
	}
}

func (r *Relay) listenOnce(ctx context.Context, wake chan<- struct{}) error {
	conn, err := r.DB.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), "UNLISTEN "+notifyChannel)
	// A decision committed before LISTEN took effect sent its NOTIFY to
	// nobody: look once now, then on every notification.
	for {
		select {
		case wake <- struct{}{}:
		default:
		}
		if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
			return err
		}
	}
}
