package central

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Member is one daemon's link to its fleet: it connects to the central
// database (retrying for as long as it is away, without holding up the
// daemon's start), then ships the local audit trail and, when approvals are
// central, relays holds and decisions.
type Member struct {
	cfg       Config
	host      string
	local     Source
	log, base *zap.Logger
	shipper   *Shipper
	relay     *Relay // nil: approvals stay local
	connected atomic.Bool
	wg        sync.WaitGroup
}

// NewMember prepares the link; call Relay before Start to centralise approvals.
func NewMember(cfg Config, host string, local Source, log *zap.Logger) *Member {
	if log == nil {
		log = zap.NewNop()
	}
	m := &Member{cfg: cfg, host: host, local: local, log: log.Named("central"), base: log}
	m.shipper = &Shipper{Local: local, Host: host, Log: log}
	return m
}

// Relay returns the approval relay for broker; wire its Announce and
// Settled into the broker's hooks.
func (m *Member) Relay(broker Decider) *Relay {
	m.relay = NewRelay(nil, broker, m.host, m.base)
	return m.relay
}

// Start connects and serves in the background until ctx ends; Wait waits.
func (m *Member) Start(ctx context.Context) {
	m.wg.Go(func() { m.run(ctx) })
}

// Wait returns once the background work has stopped.
func (m *Member) Wait() { m.wg.Wait() }

func (m *Member) run(ctx context.Context) {
	db := m.connect(ctx)
	if db == nil {
		return
	}
	defer db.Close()
	m.connected.Store(true)
	m.log.Info("connected to the fleet's central database", zap.String("host_id", m.host), zap.Bool("approvals", m.relay != nil))
	m.shipper.DB = db
	var wg sync.WaitGroup
	wg.Go(func() { m.shipper.Run(ctx) })
	if m.relay != nil {
		m.relay.DB = db
		wg.Go(func() { m.relay.Run(ctx) })
	}
	wg.Wait()
}

// connect opens the database, with backoff, until it answers or ctx ends.
func (m *Member) connect(ctx context.Context) *DB {
	backoff := time.Duration(0)
	for {
		octx, cancel := context.WithTimeout(ctx, 15*time.Second)
		db, err := Open(octx, m.cfg)
		cancel()
		if err == nil {
			return db
		}
		if ctx.Err() != nil {
			return nil
		}
		backoff = nextBackoff(backoff)
		m.log.Warn("central database unreachable: records stay in the local store, approvals are decided locally; retrying",
			zap.Duration("in", backoff), zap.Error(err))
		sleep(ctx, backoff)
	}
}

// Stats reports shipping progress.
func (m *Member) Stats() ShipperStats { return m.shipper.Stats() }

// Collector exposes the shipping lag and queue depth to Prometheus.
func (m *Member) Collector() prometheus.Collector { return memberCollector{m} }

var (
	descConnected = prometheus.NewDesc("airlock_central_connected", "1 when the central database is connected.", nil, nil)
	descLag       = prometheus.NewDesc("airlock_central_ship_lag_seconds", "Age of the oldest audit record not yet shipped (0: caught up).", nil, nil)
	descPending   = prometheus.NewDesc("airlock_central_pending_records", "Local audit records not yet in the central database.", nil, nil)
	descShipped   = prometheus.NewDesc("airlock_central_shipped_records_total", "Audit records shipped to the central database.", nil, nil)
	descFailures  = prometheus.NewDesc("airlock_central_ship_failures_total", "Failed attempts to ship audit records.", nil, nil)
)

type memberCollector struct{ m *Member }

func (c memberCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConnected, descLag, descPending, descShipped, descFailures} {
		ch <- d
	}
}

func (c memberCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.m.Stats()
	connected := 0.0
	if c.m.connected.Load() {
		connected = 1
	}
	ch <- prometheus.MustNewConstMetric(descConnected, prometheus.GaugeValue, connected)
	ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, st.Lag.Seconds())
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(descShipped, prometheus.CounterValue, float64(st.Shipped))
	ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(st.Failures))
}
