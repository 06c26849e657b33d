package admin

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/airlock-dev/airlock/audit"
)

// Metrics are Airlock's Prometheus metrics, in a registry of their own.
type Metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	ttfb, total *prometheus.HistogramVec
	bytes       *prometheus.CounterVec
	tokens      *prometheus.CounterVec
	masked      *prometheus.CounterVec
	actions     *prometheus.CounterVec
	tools       toolLabels
	upstream    *prometheus.CounterVec
	reloads     *prometheus.CounterVec
	auditErrors prometheus.Counter
	pending     atomic.Pointer[func() int]
	bpf         atomic.Pointer[func() map[string]uint64]
}

var latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// NewMetrics registers every metric in a fresh registry.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = m.counterVec("airlock_requests_total", "Intercepted API requests.", "decision", "rule", "model", "status")
	m.ttfb = m.histogram("airlock_request_ttfb_seconds", "Time to the first response byte.")
	m.total = m.histogram("airlock_request_duration_seconds", "Total request duration.")
	m.bytes = m.counterVec("airlock_bytes_total", "Body bytes, by direction (in: from clients, out: to clients).", "direction")
	m.tokens = m.counterVec("airlock_tokens_total", "Tokens reported by the API.", "kind")
	m.masked = m.counterVec("airlock_masked_items_total", "Items masked, by detector.", "detector")
	m.actions = m.counterVec("airlock_actions_total", "Tool calls the API told clients to make, by tool and decision.", "tool", "decision")
	m.upstream = m.counterVec("airlock_upstream_errors_total", "Errors talking to the upstream API.", "kind")
	m.reloads = m.counterVec("airlock_credential_reloads_total", "Managed-credential reloads.", "result")
	m.auditErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "airlock_audit_write_errors_total", Help: "Audit records that could not be written."})
	m.reg.MustRegister(m.auditErrors, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "airlock_pending_approvals", Help: "Requests held for approval."}, m.pendingCount))
	m.reg.MustRegister(bpfCollector{m})
	return m
}

func (m *Metrics) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	m.reg.MustRegister(v)
	return v
}

func (m *Metrics) histogram(name, help string) *prometheus.HistogramVec {
	v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: latencyBuckets}, []string{"model"})
	m.reg.MustRegister(v)
	return v
}

// Observe counts one written audit record.
func (m *Metrics) Observe(r *audit.Record) {
	m.requests.WithLabelValues(r.Decision, r.Rule, r.Model, strconv.Itoa(r.Status)).Inc()
	if r.TTFB > 0 {
		m.ttfb.WithLabelValues(r.Model).Observe(r.TTFB.Seconds())
	}
	if r.Duration > 0 {
		m.total.WithLabelValues(r.Model).Observe(r.Duration.Seconds())
	}
	m.bytes.WithLabelValues("in").Add(float64(r.BytesIn))
	m.bytes.WithLabelValues("out").Add(float64(r.BytesOut))
	for kind, n := range map[string]int64{"input": r.InputTokens, "output": r.OutputTokens,
		"cache_read": r.CacheReadTokens, "cache_write": r.CacheWriteTokens} {
		m.tokens.WithLabelValues(kind).Add(float64(n))
	}
	for det, n := range r.Masked {
		m.masked.WithLabelValues(det).Add(float64(n))
	}
	for _, a := range r.Actions {
		m.actions.WithLabelValues(m.tools.label(a.Tool), a.Decision).Inc()
	}
}

// maxToolLabels bounds the tool names the actions metric distinguishes: the
// names come from requests, and a hostile client must not be able to grow
// the metric without limit.
const maxToolLabels = 100

// toolLabels admits the first maxToolLabels tool names; the rest are "other".
type toolLabels struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (l *toolLabels) label(name string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	if !l.seen[name] && len(l.seen) >= maxToolLabels {
		return "other"
	}
	l.seen[name] = true
	return name
}

// UpstreamError counts an upstream failure of the given kind ("dial", "tls", "timeout", "reset"...).
func (m *Metrics) UpstreamError(kind string) { m.upstream.WithLabelValues(kind).Inc() }

// CredentialReload counts a managed-credential reload attempt.
func (m *Metrics) CredentialReload(ok bool) {
	result := "ok"
	if !ok {
		result = "error"
	}
	m.reloads.WithLabelValues(result).Inc()
}

// AuditWriteError counts a record the store refused.
func (m *Metrics) AuditWriteError() { m.auditErrors.Inc() }

// Register adds a collector of another component (e.g. a fleet's shipping lag).
func (m *Metrics) Register(c prometheus.Collector) { m.reg.MustRegister(c) }

// SetPendingFunc sets how the pending-approvals gauge is read (e.g. broker.Count).
func (m *Metrics) SetPendingFunc(f func() int) { m.pending.Store(&f) }

// SetBPFFunc sets the callback that reads the BPF counters (name -> value),
// exported as airlock_bpf_events_total{counter="name"}.
func (m *Metrics) SetBPFFunc(f func() map[string]uint64) { m.bpf.Store(&f) }

func (m *Metrics) pendingCount() float64 {
	if f := m.pending.Load(); f != nil {
		return float64((*f)())
	}
	return 0
}

// Registry exposes the registry for callers that add their own metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

var bpfDesc = prometheus.NewDesc("airlock_bpf_events_total", "Counters kept by the BPF programs.", []string{"counter"}, nil)

// bpfCollector reads the BPF counters at scrape time through the daemon's callback.
type bpfCollector struct{ m *Metrics }

func (c bpfCollector) Describe(ch chan<- *prometheus.Desc) { ch <- bpfDesc }

func (c bpfCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.m.bpf.Load()
	if f == nil {
		return
	}
	for name, v := range (*f)() {
		ch <- prometheus.MustNewConstMetric(bpfDesc, prometheus.CounterValue, float64(v), name)
	}
}
