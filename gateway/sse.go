package gateway

import (
	"bytes"
	"context"
	"errors"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/airlock-dev/airlock/apierror"
	"github.com/airlock-dev/airlock/internal/sse"
	"github.com/airlock-dev/airlock/policy/mask"
)

// Bounds of what one SSE response may make the gateway hold.
const (
	// DefaultMaxEvent bounds one upstream event (the largest the API sends
	// are content_block_start events carrying server tool results).
	DefaultMaxEvent = 4 << 20
	// maxHeldAfterStop bounds the terminal events and whatever follows them
	// until the upstream ends (the API sends nothing after message_stop).
	maxHeldAfterStop = 64 << 10
	// maxRecorded bounds the events kept for the recording of one response.
	maxRecorded = 8 << 20
)

// eventStage is one step between the scanner and the client. It takes whole
// events in order and hands what it releases, now or later, to the next
// stage it was built with; it may hold, replace or drop events. Finish
// releases whatever it still holds; tail is what never formed an event. An
// error means the stage ended the stream (having emitted its own ending).
// *mask.Stream is one.
type eventStage interface {
	Event(sse.Event) error
	Finish(tail []byte) error
}

// emitStage is the last stage: sseTransform.emit.
type emitStage func(sse.Event) error

func (f emitStage) Event(ev sse.Event) error { return f(ev) }

func (f emitStage) Finish(tail []byte) error {
	if len(tail) == 0 {
		return nil
	}
	return f(sse.Event{Raw: tail}) // a last event without its blank line
}

// sseTransform frames the upstream stream into events (bounded), runs them
// through its stages (the masker, when masking), then takes their usage,
// records them, and passes each on at once, except the terminal ones
// (message_stop, error), which it holds until the stream ends and the audit
// record is written. What is recorded is what the client gets.
type sseTransform struct {
	ex       *exchange
	sc       *sse.Scanner
	first    eventStage   // where the scanner's events go
	stream   *mask.Stream // nil when not masking
	secret   string
	out      []byte // the caller's buffer while write or end runs
	held     []byte // terminal events and what follows
	actions  *actionTracker
	gate     *actionGate // nil unless the policy has action rules
	arena    recordArena // the recorded events' bytes
	recorded int
	cut      bool
	released bool // an event has gone to the client: scan no longer stops early
	stopped  bool // scan stopped early: complete events wait in the scanner
}

// newSSETransform chains the stages: scanner → masker → action gate → emit,
// so that rules decide the tool call the client would receive (masked).
func (g *Gateway) newSSETransform(ctx context.Context, ex *exchange) *sseTransform {
	t := &sseTransform{ex: ex, sc: sse.NewScanner(g.maxEvent()), secret: ex.secret(), actions: newActionTracker(&ex.rec)}
	t.first = emitStage(t.emit)
	if ex.engine.HasActionRules() && ex.messages() {
		t.gate = newActionGate(ctx, ex, t.first)
		t.first, t.actions.verdicts = t.gate, t.gate.verdict
	}
	if m := g.cfg.Masker; m != nil && ex.maskResp {
		t.stream = m.For(ex.scope).NewEventStream(t.first.Event, mask.Selection(ex.decision.Mask.Response), mask.StreamOptions{Log: g.log})
		t.first = t.stream
	}
	return t
}

func (t *sseTransform) write(out, p []byte) ([]byte, error) {
	t.sc.Write(p)
	return t.resume(out)
}

// pending and resume implement resumer.
func (t *sseTransform) pending() bool { return t.stopped }

func (t *sseTransform) resume(out []byte) ([]byte, error) {
	t.out = out
	t.scan()
	out, t.out = t.out, nil
	if t.cut {
		return out, errCut
	}
	return out, nil
}

// scan hands each complete upstream event to the first stage. It stops
// after the first event the client is to receive, so that it goes out
// before the rest of its read is processed: the first read of a stream
// often holds a dozen events (they arrive while the response headers go
// out), and masking them all put 50–140 µs before the first one. The
// events after it follow from resume, before the upstream is read again.
func (t *sseTransform) scan() {
	t.stopped = false
	for !t.cut && t.sc.Scan() {
		t.stageErr(t.first.Event(t.sc.Event()))
		if !t.cut && !t.released && len(t.out) > 0 {
			t.released, t.stopped = true, true
			return
		}
	}
	if !t.cut && t.sc.Err() != nil {
		t.cutWith(holdBound("an upstream SSE event", t.ex.g.maxEvent()))
	}
}

// stageErr notes a stream a stage ended, with its own error event.
func (t *sseTransform) stageErr(err error) {
	if err == nil || t.cut {
		return
	}
	t.cut = true
	t.ex.rec.Reason = "airlock: the stream was cut: " + err.Error()
	if errors.Is(err, mask.ErrStreamCut) {
		t.ex.rec.Reason = "airlock: the masking hold bound was exceeded; the stream was cut"
	}
}

// end flushes what the stages and the scanner held, then releases the
// terminal events.
func (t *sseTransform) end(out []byte) []byte {
	t.out = out
	if !t.cut {
		t.sc.Close()
		t.released = true // the end drains whatever is left in one pass
		t.scan()
	}
	if !t.cut {
		t.stageErr(t.first.Finish(t.sc.Tail())) // the masker masks a tail as text
	}
	if !t.cut && t.gate != nil && t.stream != nil {
		t.stageErr(t.gate.Finish(nil)) // the masker hands events on, not its end
	}
	if t.cut && t.gate != nil {
		t.gate.drop()
	}
	if t.stream != nil {
		addCounts(t.ex, t.stream.Result())
	}
	t.actions.end()
	out, t.out = append(t.out, t.held...), nil
	return out
}

// emit takes usage from, records and queues one decided event.
func (t *sseTransform) emit(e sse.Event) error {
	if t.cut {
		return errCut
	}
	raw := scrubBytes(e.Raw, t.secret)
	t.actions.event(e, raw)
	name := eventName(e)
	switch name {
	case "message_start":
		takeUsage(&t.ex.rec, gjson.GetBytes(e.Data, "message.usage"))
	case "message_delta":
		takeUsage(&t.ex.rec, gjson.GetBytes(e.Data, "usage"))
	}
	if name != "message_stop" && name != "error" && len(t.held) == 0 {
		t.send(raw, &t.out)
		return nil
	}
	if len(t.held)+len(raw) > maxHeldAfterStop {
		t.cutWith(holdBound("the events after message_stop", maxHeldAfterStop))
		return errCut
	}
	t.send(raw, &t.held)
	return nil
}

// send counts and records an event and queues it on q.
func (t *sseTransform) send(raw []byte, q *[]byte) {
	t.ex.rec.BytesOut += int64(len(raw))
	*q = append(*q, raw...)
	rc := t.ex.rc
	if rc == nil || t.recorded > maxRecorded {
		return
	}
	t.recorded += len(raw)
	if t.recorded > maxRecorded {
		raw = []byte(": airlock: recording truncated after " + strconv.Itoa(maxRecorded) + " bytes\n\n")
	}
	rc.Events = append(rc.Events, eventAt(t.ex, t.arena.clone(raw)))
}

// recordArena copies recorded events into shared chunks, so recording an
// event costs no allocation of its own: a stream's chunks grow from 1 KiB to
// 32 KiB (a short answer holds little), and an event larger than a quarter
// chunk gets its own copy. A chunk is never written twice, so every event
// keeps its bytes.
type recordArena struct{ chunk []byte }

const maxArenaChunk = 32 << 10

func (a *recordArena) clone(b []byte) []byte {
	if len(b) > maxArenaChunk/4 {
		return bytes.Clone(b)
	}
	if cap(a.chunk)-len(a.chunk) < len(b) {
		a.chunk = make([]byte, 0, max(min(max(2*cap(a.chunk), 1<<10), maxArenaChunk), len(b)))
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, b...)
	return a.chunk[start:len(a.chunk):len(a.chunk)]
}

// cutWith ends the stream with an API-shaped error event in place of what
// was held: what exceeded a bound was never examined, so it never passes.
func (t *sseTransform) cutWith(msg string) {
	t.cut, t.held = true, nil
	t.ex.rec.Reason = msg
	t.send(errorEvent(apierror.Marshal(apierror.API, msg, t.ex.rec.RequestID)), &t.held)
}

// waiting reports a tool call awaiting approval: the pipeline waits on it
// rather than reading the upstream.
func (t *sseTransform) waiting() bool { return t.gate != nil && !t.cut && t.gate.waiting() }

// wait sends the client a ping each interval until the approval is
// decided, then releases what the decision lets through.
func (t *sseTransform) wait(out []byte) []byte {
	t.out = out
	if t.gate.wait(t.ex.g.actionPing()) {
		t.stageErr(t.gate.resume())
	} else {
		t.send(pingEvent, &t.out)
	}
	out, t.out = t.out, nil
	return out
}

// auditFailed replaces the held events with an error event.
func (t *sseTransform) auditFailed() ([]byte, error) {
	return errorEvent(auditFailedBody(t.ex)), nil
}

func errorEvent(data []byte) []byte { return sse.AppendEvent(nil, []byte("error"), data, "\n") }

// eventName is the event's name, or the type its data declares. The API's
// own names come back as constants: an event costs no allocation for it.
func eventName(e sse.Event) string {
	if len(e.Name) == 0 {
		return gjson.GetBytes(e.Data, "type").String()
	}
	for _, known := range knownEvents {
		if string(e.Name) == known {
			return known
		}
	}
	return string(e.Name)
}

var knownEvents = [...]string{"content_block_delta", "content_block_start", "content_block_stop",
	"message_start", "message_delta", "message_stop", "ping", "error"}

func (g *Gateway) maxEvent() int {
	if g.cfg.MaxEvent > 0 {
		return g.cfg.MaxEvent
	}
	return DefaultMaxEvent
}
