package daemon

import (
	"context"
	"sync"

	"github.com/airlock-dev/airlock/admin"
	"github.com/airlock-dev/airlock/gateway"
	"github.com/airlock-dev/airlock/intercept"
	"github.com/airlock-dev/airlock/tlsmitm"
)

// startGateway builds the upstream transport (every socket marked, so the
// redirect never loops back to us) and the request handler.
func (d *Daemon) startGateway(context.Context) error {
	up := d.cfg.Upstream
	transport, err := tlsmitm.NewUpstream(tlsmitm.UpstreamConfig{
		ExtraCAFile: up.ExtraCAFile, Override: up.Override, ProxyURL: up.Proxy, Protocol: up.Protocol,
		Dial: intercept.MarkedDialer(d.mark()).DialContext,
	})
	if err != nil {
		return fail("upstream", "check upstream.extra_ca_file and upstream.proxy", err)
	}
	g, err := gateway.New(gateway.Config{
		Transport:     transport,
		Policy:        d.parts.policy.Engine,
		Credentials:   d.parts.creds,
		InstallKey:    d.parts.key,
		Masker:        d.parts.masker,
		Approver:      d.parts.broker,
		Auditor:       &admin.ObservingAuditor{Auditor: d.parts.audit.Spooled(), Metrics: d.parts.metrics},
		AuditFailOpen: d.cfg.Audit.FailOpen,
		MaxBody:       int64(d.cfg.Gateway.MaxBody),
		MaxEvent:      int(d.cfg.Gateway.MaxEvent),
		ActionHold:    int(d.cfg.Gateway.ActionHold),
		MaxInFlight:   int64(d.cfg.Gateway.MaxInFlightBody),
		BodyTimeout:   d.cfg.Gateway.BodyTimeout,
		Log:           d.log,
	})
	if err != nil {
		return fail("gateway", "report this bug", err)
	}
	d.parts.gateway = g
	d.onStop("upstream", func(context.Context) error { transport.CloseIdleConnections(); return nil })
	return nil
}

// startTLS builds the server that terminates intercepted connections. Its
// stop drains: in-flight requests and streams get until the drain deadline.
func (d *Daemon) startTLS(context.Context) error {
	s, err := tlsmitm.NewServer(tlsmitm.ServerConfig{
		Authority:        d.parts.ca,
		Hosts:            d.cfg.Capture.APIHosts,
		Handler:          d.parts.gateway,
		HandshakeTimeout: d.cfg.TLS.HandshakeTimeout,
		Log:              d.log,
	})
	if err != nil {
		return fail("TLS server", "report this bug", err)
	}
	d.parts.tls = s
	d.drainTLS = onceCtx(s.Shutdown)
	d.onStop("tls", d.drainTLS)
	return nil
}

// onceCtx runs f once; later calls return its first result.
func onceCtx(f func(context.Context) error) func(context.Context) error {
	var once sync.Once
	var err error
	return func(ctx context.Context) error {
		once.Do(func() { err = f(ctx) })
		return err
	}
}
