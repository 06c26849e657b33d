package daemon

import (
	"context"
	"net"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/containers"
	"github.com/airlock-dev/airlock/intercept"
)

// namespaceMetrics exports the figures of the listeners Interceptor.Run
// opens inside the network namespaces of captured processes (containers,
// `unshare -n`, `ip netns exec`).
func (d *Daemon) namespaceMetrics(ic *intercept.Interceptor) {
	nss := ic.Namespaces
	reg := d.parts.metrics.Registry()
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "airlock_netns_served",
			Help: "Network namespaces other than the daemon's with a listener of their own."},
			func() float64 { return float64(nss.Stats().Served) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "airlock_netns_first_contact_total",
			Help: "Namespaces the kernel reported at first contact (a connection held or refused for want of a listener)."},
			func() float64 { return float64(nss.Stats().FirstContact) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "airlock_netns_first_contact_refused_total",
			Help: "Connections refused for want of a listener in their namespace (the hold was off or full)."},
			func() float64 { return float64(nss.Stats().Refused) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "airlock_netns_first_contact_held_total",
			Help: "Connections held at first contact until their namespace's listener opened."},
			func() float64 { return float64(nss.Stats().Held) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "airlock_netns_over_limit_total",
			Help: "First contacts turned away because capture.containers.max_namespaces namespaces were served already."},
			func() float64 { return float64(nss.Stats().OverLimit) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "airlock_netns_released_total",
			Help: "Namespace listeners released because no captured process was left."},
			func() float64 { return float64(nss.Stats().Released) }),
	)
}

// namingHandler names the caller's container (name and image, from the
// runtime's API socket) before the TLS server, policy and audit see it.
type namingHandler struct {
	next     intercept.APIHandler
	runtimes *containers.Runtimes
}

func (h namingHandler) ServeAPI(ctx context.Context, conn net.Conn, o *caller.Origin) {
	h.runtimes.Name(ctx, &o.Process)
	h.next.ServeAPI(ctx, conn, o)
}
