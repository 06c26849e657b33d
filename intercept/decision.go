package intercept

import (
	"context"
	"slices"
	"strings"

	"github.com/airlock-dev/airlock/caller"
)

// What the listener did with a connection it did not hand to the API
// handler. Every one is reported, so the daemon can audit it.
const (
	DecisionRelay           = "relay"             // an allowed non-API SNI, relayed unchanged
	DecisionRefusedSNI      = "refused_sni"       // not an API host (or no usable ClientHello): closed
	DecisionRefusedNoRecord = "refused_no_record" // no redirect record: not from a captured process
)

// Decision is one relay or refusal. Origin.Process and Origin.Dst are zero
// when there was no record; Origin.SNI is normalised.
type Decision struct {
	Kind   string
	Reason string
	Origin *caller.Origin
}

// Reporter records decisions; the daemon writes them to the audit. An
// error refuses a relay (nothing is relayed unrecorded).
type Reporter interface {
	Report(ctx context.Context, d Decision) error
}

// ReporterFunc adapts a function to Reporter.
type ReporterFunc func(ctx context.Context, d Decision) error

// Report calls f.
func (f ReporterFunc) Report(ctx context.Context, d Decision) error { return f(ctx, d) }

type nopReporter struct{}

func (nopReporter) Report(context.Context, Decision) error { return nil }

// NormalizeSNI is the form every SNI decision uses: lower case, without
// one trailing dot ("API.Anthropic.com." is api.anthropic.com).
func NormalizeSNI(sni string) string {
	return strings.TrimSuffix(strings.ToLower(sni), ".")
}

// verdict is what to do with a normalised SNI on a redirected connection.
type verdict int

const (
	verdictRefuse verdict = iota
	verdictAPI
	verdictRelay
)

// decide classifies a normalised SNI: an API host is intercepted, an
// allow-listed one relayed; anything else was bound for the API's
// addresses under another name and is refused.
func (c Config) decide(sni string) verdict {
	match := func(h string) bool { return sni != "" && NormalizeSNI(h) == sni }
	switch {
	case slices.ContainsFunc(c.APIHosts, match):
		return verdictAPI
	case slices.ContainsFunc(c.RelayAllow, match):
		return verdictRelay
	}
	return verdictRefuse
}
