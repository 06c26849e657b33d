// Package tlsmitm owns Airlock's TLS interception: the name-constrained CA
// (create, load, rotate, export), leaf minting and caching, the TLS server
// that terminates intercepted API connections and serves them with Go's HTTP
// server, and the verified upstream transport to the real API.
//
// The CA can sign only for the configured API host names (critical X.509
// name constraints, every IP address excluded), so a stolen Airlock CA
// cannot impersonate anything else.
//
// Wiring, as the daemon does it:
//
//	ca, err := tlsmitm.LoadOrCreateCA(tlsmitm.CAConfig{Dir: caDir, Hosts: apiHosts}, log)
//	up, err := tlsmitm.NewUpstream(tlsmitm.UpstreamConfig{Dial: intercept.MarkedDialer(mark).DialContext})
//	srv, err := tlsmitm.NewServer(tlsmitm.ServerConfig{Authority: ca, Handler: gw, Log: log})
//	// srv is the intercept.APIHandler; on SIGHUP after `airlock ca rotate`: ca.Reload().
//	// On stop: srv.Shutdown(ctx) first (drains streams), then cancel the intercept context.
package tlsmitm
