// Package tlsmitm owns Airlock's TLS interception: the name-constrained CA
// (create, load, rotate, export), leaf minting and caching, the TLS server
// that terminates intercepted API connections and serves them with Go's HTTP
// server, and the verified upstream transport to the real API.
//
// The CA can sign only for the configured API host names (critical X.509
// name constraints), so a stolen Airlock CA cannot impersonate anything else.
package tlsmitm
