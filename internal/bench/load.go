package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Load is a closed-loop load: Concurrency workers each send one request after
// the other for Warmup+Duration; only requests started after Warmup count.
type Load struct {
	Concurrency int
	Warmup      time.Duration
	Duration    time.Duration
	NewConn     bool   // a new connection (full TLS handshake) per request
	Stream      bool   // the response is an SSE stream: measure first event and per-event time
	Body        []byte // the Messages request body
	// Conversation, when set, gives each worker its own bodies, sent in turn
	// and then again from the first (a growing conversation resent each turn).
	Conversation func(worker int) [][]byte
	Header       http.Header // extra request headers (x-fake-*)
}

// sample is one request's timing.
type sample struct {
	latency, ttfe time.Duration
	events        int
}

// Run drives the load against t and summarises it.
func (l Load) Run(ctx context.Context, t Target) Result {
	tr := t.transport(!l.NewConn, l.Concurrency)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	start := time.Now()
	measureFrom, end := start.Add(l.Warmup), start.Add(l.Warmup+l.Duration)
	per := make([][]sample, l.Concurrency)
	errs := make([]int, l.Concurrency)
	var first firstError
	var wg sync.WaitGroup
	for w := range l.Concurrency {
		wg.Go(func() { per[w], errs[w] = l.worker(ctx, client, t, w, measureFrom, end, &first) })
	}
	wg.Wait()
	elapsed := time.Since(measureFrom)
	r := l.summarise(slices.Concat(per...), sum(errs), elapsed)
	r.Failure = first.String()
	return r
}

// firstError keeps the first failure of a run.
type firstError struct {
	once sync.Once
	err  error
}

func (f *firstError) set(err error) { f.once.Do(func() { f.err = err }) }

func (f *firstError) String() string {
	if f.err == nil {
		return ""
	}
	return f.err.Error()
}

func (l Load) worker(ctx context.Context, c *http.Client, t Target, w int, from, end time.Time, first *firstError) ([]sample, int) {
	var out []sample
	errs := 0
	bodies := [][]byte{l.Body}
	if l.Conversation != nil {
		bodies = l.Conversation(w)
	}
	for i := 0; ctx.Err() == nil; i++ {
		began := time.Now()
		if began.After(end) && (len(out) > 0 || errs > 0) {
			break // every worker completes at least one measured request, however loaded the machine
		}
		s, err := l.once(ctx, c, t, bodies[i%len(bodies)])
		if began.Before(from) && time.Now().Before(end) {
			continue
		}
		if err != nil {
			errs++
			first.set(err)
			continue
		}
		out = append(out, s)
	}
	return out, errs
}

func sum(v []int) int {
	n := 0
	for _, x := range v {
		n += x
	}
	return n
}

// once sends one request and reads the whole response.
func (l Load) once(ctx context.Context, c *http.Client, t Target, body []byte) (sample, error) {
	req, err := newMessagesRequest(ctx, t.Key, body, l.Header)
	if err != nil {
		return sample{}, err
	}
	began := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return sample{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return sample{}, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	s := sample{}
	if l.Stream {
		s.ttfe, s.events, err = readEvents(resp.Body, began)
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	s.latency = time.Since(began)
	return s, err
}

func newMessagesRequest(ctx context.Context, key string, body []byte, extra http.Header) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+APIHost+"/v1/messages", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Api-Key", key)
	req.Header.Set("Anthropic-Version", "2023-06-01")
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range extra {
		req.Header[k] = vs
	}
	return req, nil
}

var errNoStop = errors.New("stream ended without message_stop")

// readEvents reads an SSE body to its end: the time to its first event and
// the number of content_block_delta events; it fails unless message_stop
// arrives.
func readEvents(body io.Reader, began time.Time) (ttfe time.Duration, deltas int, err error) {
	br := bufio.NewReaderSize(body, 16<<10)
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return ttfe, deltas, errNoStop
		}
		name, ok := bytes.CutPrefix(line, []byte("event: "))
		if !ok {
			continue
		}
		if ttfe == 0 {
			ttfe = time.Since(began)
		}
		switch string(bytes.TrimSpace(name)) {
		case "content_block_delta":
			deltas++
		case "message_stop":
			// Read to the end as the SDKs do: a body closed before its end
			// costs the connection, and every stream would pay a handshake.
			_, err := io.Copy(io.Discard, br)
			return ttfe, deltas, err
		case "error":
			return ttfe, deltas, errors.New("error event")
		}
	}
}

// summarise turns samples into the scenario's figures.
func (l Load) summarise(samples []sample, errs int, elapsed time.Duration) Result {
	lat := make([]time.Duration, len(samples))
	for i, s := range samples {
		lat[i] = s.latency
	}
	slices.Sort(lat)
	m := map[string]float64{
		"rps": float64(len(samples)) / elapsed.Seconds(),
		"p50": percentile(lat, 50), "p99": percentile(lat, 99),
	}
	if l.Stream {
		streamFigures(m, samples, elapsed)
	}
	return Result{Metrics: m, Errors: errs, Done: len(samples)}
}

// streamFigures adds time to first event, per-event time and events/s.
func streamFigures(m map[string]float64, samples []sample, elapsed time.Duration) {
	ttfe := make([]time.Duration, 0, len(samples))
	perEvent := make([]time.Duration, 0, len(samples))
	events := 0
	for _, s := range samples {
		ttfe = append(ttfe, s.ttfe)
		if s.events > 0 {
			perEvent = append(perEvent, (s.latency-s.ttfe)/time.Duration(s.events))
		}
		events += s.events
	}
	slices.Sort(ttfe)
	slices.Sort(perEvent)
	m["ttfe_p50"], m["ttfe_p99"] = percentile(ttfe, 50), percentile(ttfe, 99)
	m["event_us"] = percentile(perEvent, 50) * 1000
	m["events_per_s"] = float64(events) / elapsed.Seconds()
}
