package bench

import (
	"context"
	"net/http"
	"time"
)

// OpenStreams holds N streams open at once (HTTP/1.1, one per connection,
// as Claude Code and the Node SDK use) and measures the resident memory each
// costs the proxy. It gives up, counting the rest as errors, after Limit.
type OpenStreams struct {
	N      int
	Settle time.Duration // pause before reading RSS
	Limit  time.Duration // the whole scenario's bound
}

// quietStream keeps an answer open: one event a minute after message_start,
// so every stream is still open when the memory is read.
var quietStream = http.Header{"X-Fake-Scenario": {"slow"}, "X-Fake-Interval-Ms": {"60000"}}

// Run returns streams (held open at once), stream_kib and open_s (the time to open them all).
func (o OpenStreams) Run(ctx context.Context, t Target) Result {
	res := Result{Metrics: map[string]float64{}}
	if t.PIDs == nil {
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, o.Limit)
	defer cancel()
	base := rssKiB(t.PIDs())
	began := time.Now()
	streams, errs := Memory{N: o.N}.open(ctx, t, StreamBody, quietStream)
	defer closeAll(streams)
	res.Metrics["open_s"] = time.Since(began).Seconds()
	time.Sleep(o.Settle)
	with := rssKiB(t.PIDs())
	res.Errors, res.Done = errs, len(streams)
	res.Metrics["streams"] = float64(len(streams))
	if len(streams) > 0 {
		res.Metrics["stream_kib"] = float64(with-base) / float64(len(streams))
	}
	if errs > 0 {
		res.Failure = "streams not opened before the limit or refused"
	}
	return res
}
