package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tidwall/gjson"

	"github.com/airlock-dev/airlock/apierror"
	"github.com/airlock-dev/airlock/internal/sse"
	"github.com/airlock-dev/airlock/policy"
)

// Defaults of the action gate.
const (
	// DefaultActionHold bounds one tool-use block held for a decision: a
	// bigger one is refused, never passed undecided.
	DefaultActionHold = 1 << 20
	// DefaultActionPing is how often a stream waiting for an approval sends
	// the client a ping, so that neither it nor a proxy drops the connection.
	DefaultActionPing = 5 * time.Second
)

// actionGate is the event stage that decides tool calls before the client
// receives them: a client tool_use block is held from its
// content_block_start to its content_block_stop, decided by the policy's
// action rules, then released unchanged or replaced by a text block saying
// which rule refused it. A hold for approval keeps everything after the
// block waiting (the upstream is not read meanwhile) while the transformer
// sends pings. Other events pass at once: a stream without tool calls is not
// delayed. It exists only when the policy has action rules.
type actionGate struct {
	// ctx is the request's: a response body's reads carry none, and an
	// approval must end when the client goes away.
	ctx     context.Context
	ex      *exchange
	next    eventStage
	bound   int
	block   *heldBlock  // the tool_use block being collected
	pending *actionHold // the block waiting for an approval
	queue   []sse.Event // events behind the pending block, in order
	queued  int
	refused int // tool_use blocks replaced
	passed  int // tool_use blocks released
	verdict map[string]verdict
}

// heldBlock is one tool_use block under collection: its events (and any
// other event that arrived meanwhile, such as a ping), and its input.
type heldBlock struct {
	index    int64
	id, name string
	events   []sse.Event
	own      []bool // events[i] belongs to the block
	input    []byte
	start    []byte // the input the start event carried
	size     int
	others   int  // bytes of the unrelated events held with it (pings)
	over     bool // the block exceeded the hold bound: refused whatever it says
}

func newActionGate(ctx context.Context, ex *exchange, next eventStage) *actionGate {
	return &actionGate{ctx: ctx, ex: ex, next: next, bound: ex.g.actionHold(), verdict: map[string]verdict{}}
}

// Event takes one event in stream order.
func (g *actionGate) Event(ev sse.Event) error {
	if g.pending != nil {
		return g.enqueue(ev)
	}
	if g.block != nil {
		return g.collect(ev)
	}
	if !mayMatter(ev.Raw, g.refused > 0) {
		return g.next.Event(ev) // the common case: text, pings, usage
	}
	data := eventData(ev)
	if len(data) == 0 {
		return g.next.Event(ev) // a comment or a bare name: clients ignore it
	}
	if err := plainJSON(data); err != nil {
		return g.cut(err.Error())
	}
	switch gjson.GetBytes(data, "type").String() {
	case "content_block_start":
		if cb := gjson.GetBytes(data, "content_block"); cb.Get("type").String() == "tool_use" {
			g.open(gjson.GetBytes(data, "index").Int(), cb, ev)
			return nil
		}
	case "message_delta":
		return g.next.Event(g.stopReason(ev, data))
	}
	return g.next.Event(ev)
}

func (g *actionGate) open(idx int64, cb gjson.Result, ev sse.Event) {
	g.block = &heldBlock{index: idx, id: cb.Get("id").String(), name: cb.Get("name").String(),
		start: []byte(cb.Get("input").Raw)}
	g.hold(ev, true)
}

// hold keeps a copy of ev with the block: the scanner reuses its buffer.
func (g *actionGate) hold(ev sse.Event, own bool) {
	b := g.block
	b.size += len(ev.Raw)
	if b.size > g.bound && !b.over {
		b.over = true // refused whatever follows; none of its own events is kept
		b.events = keepOthers(b)
	}
	if b.over && own {
		return
	}
	b.events = append(b.events, sse.Parse(bytes.Clone(ev.Raw)))
	b.own = append(b.own, own)
}

// collect adds an event to the open block; its content_block_stop decides.
func (g *actionGate) collect(ev sse.Event) error {
	data := eventData(ev)
	b := g.block
	if len(data) == 0 {
		g.hold(ev, false)
		return nil
	}
	if err := plainJSON(data); err != nil {
		return g.cut(err.Error())
	}
	if idx := gjson.GetBytes(data, "index"); !idx.Exists() || idx.Int() != b.index {
		if gjson.GetBytes(data, "type").String() == "content_block_start" {
			// The API never interleaves blocks; one that does could slip a
			// second call past the first's hold.
			return g.cut("a content block started inside a held tool call")
		}
		if b.others += len(ev.Raw); b.others > g.bound {
			return g.cut("the events around a held tool call exceeded the hold bound")
		}
		g.hold(ev, false)
		return nil
	}
	switch gjson.GetBytes(data, "type").String() {
	case "content_block_delta":
		if frag := gjson.GetBytes(data, "delta.partial_json").String(); !b.over && len(b.input)+len(frag) <= g.bound {
			b.input = append(b.input, frag...)
		}
	case "content_block_stop":
		g.hold(ev, true)
		return g.decide()
	}
	g.hold(ev, true)
	return nil
}

// decide settles the complete block now, or starts its approval.
func (g *actionGate) decide() error {
	b := g.block
	if b.over {
		return g.settle(oversized(g.bound))
	}
	v, d := g.ex.g.judge(g.ex, b.act())
	if v.decision != "" {
		return g.settle(v)
	}
	g.pending = g.ex.g.startHold(g.ctx, g.ex, b.act(), d)
	return nil
}

// settle releases or replaces the block, then what queued behind it.
func (g *actionGate) settle(v verdict) error {
	b := g.block
	g.block, g.pending = nil, nil
	g.verdict[b.id] = v
	if v.allowed() {
		g.passed++
	} else {
		g.refused++
		g.ex.recordRefused(b, v)
	}
	if err := g.release(b, v); err != nil {
		return err
	}
	return g.drain()
}

func (g *actionGate) release(b *heldBlock, v verdict) error {
	if !v.allowed() {
		return g.replace(b, v)
	}
	for _, ev := range b.events {
		if err := g.next.Event(ev); err != nil {
			return err
		}
	}
	return nil
}

// replace sends a text block at the block's index in its place, and the
// unrelated events that were held with it.
func (g *actionGate) replace(b *heldBlock, v verdict) error {
	evs := refusalEvents(b.index, v.message)
	for i, ev := range b.events {
		if !b.own[i] {
			evs = append(evs[:len(evs)-1:len(evs)-1], ev, evs[len(evs)-1])
		}
	}
	for _, ev := range evs {
		if err := g.next.Event(ev); err != nil {
			return err
		}
	}
	return nil
}

// drain runs the events that waited behind a decided block.
func (g *actionGate) drain() error {
	q := g.queue
	g.queue, g.queued = nil, 0
	for i, ev := range q {
		if g.pending != nil {
			g.queue = append(g.queue, q[i:]...)
			for _, e := range g.queue {
				g.queued += len(e.Raw)
			}
			return nil
		}
		if err := g.Event(ev); err != nil {
			return err
		}
	}
	return nil
}

// enqueue keeps an event behind a pending approval. The upstream is not read
// while one is pending, so only the rest of the chunk at hand queues; the
// bound is a guard.
func (g *actionGate) enqueue(ev sse.Event) error {
	g.queued += len(ev.Raw)
	if g.queued > g.bound {
		return g.cut("the events behind a held tool call exceeded the hold bound")
	}
	g.queue = append(g.queue, sse.Parse(bytes.Clone(ev.Raw)))
	return nil
}

// Finish refuses a block the stream never completed (the client could not
// act on half of one) and ends a pending approval without waiting.
func (g *actionGate) Finish(tail []byte) error {
	if g.pending != nil {
		if err := g.settle(g.pending.abandon()); err != nil {
			return err
		}
	}
	if g.block != nil {
		g.block.events = keepOthers(g.block)
		if err := g.settle(unfinished()); err != nil {
			return err
		}
	}
	return g.next.Finish(tail)
}

// keepOthers drops a cut block's own events: its replacement must be whole.
func keepOthers(b *heldBlock) []sse.Event {
	var out []sse.Event
	var own []bool
	for i, ev := range b.events {
		if !b.own[i] {
			out, own = append(out, ev), append(own, false)
		}
	}
	b.own = own
	return out
}

// drop forgets what the gate holds when the stream is cut: the held call
// never reaches the client, and the record says so.
func (g *actionGate) drop() {
	if g.pending != nil {
		g.pending.cancel() // the broker forgets it; its goroutine ends
	}
	if b := g.block; b != nil {
		g.ex.recordRefused(b, verdict{decision: "deny", reason: "the stream was cut before the tool call was decided"})
	}
	g.block, g.queue, g.pending = nil, nil, nil
}

// waiting reports a pending approval: the transformer waits on it instead
// of reading the upstream.
func (g *actionGate) waiting() bool { return g.pending != nil }

// wait blocks until the pending approval is decided (true) or the ping
// interval passed (false).
func (g *actionGate) wait(every time.Duration) bool {
	t := time.NewTimer(every)
	defer t.Stop()
	select {
	case <-g.pending.done:
		return true
	case <-t.C:
		return false
	case <-g.ctx.Done():
		<-g.pending.done // Await returns on the same context
		return true
	}
}

// resume settles the decided approval.
func (g *actionGate) resume() error { return g.settle(g.pending.verdict()) }

// stopReason turns a message_delta's stop_reason tool_use into end_turn once
// every tool_use block of the message was refused: the client has nothing
// left to run and must not wait for a tool result it will never send.
func (g *actionGate) stopReason(ev sse.Event, data []byte) sse.Event {
	if g.refused == 0 || g.passed > 0 || gjson.GetBytes(data, "delta.stop_reason").String() != "tool_use" {
		return ev
	}
	nd, err := setJSON(data, "delta.stop_reason", "end_turn")
	if err != nil {
		return ev
	}
	return sse.Parse(sse.AppendEvent(nil, ev.Name, nd, sse.LineEnding(ev.Raw)))
}

func (b *heldBlock) rawInput() []byte {
	if len(b.input) > 0 {
		return b.input
	}
	return b.start
}

// mayMatter is the gate's fast test: only a content block's start (a
// tool_use, possibly spelled with JSON escapes) and, once a call was refused,
// a stop_reason need a look.
func mayMatter(raw []byte, refused bool) bool {
	return bytes.Contains(raw, []byte("content_block_start")) || bytes.Contains(raw, []byte(`\u`)) ||
		refused && bytes.Contains(raw, []byte("stop_reason"))
}

// plainJSON refuses what the gate and the client could read differently: a
// repeated key ({"type":"text","type":"tool_use"}) is the first for gjson
// and the last for JSON.parse.
func plainJSON(data []byte) error {
	if err := policy.CheckJSON(data); err != nil {
		return fmt.Errorf("an event the action gate must read is not plain JSON (%w)", err)
	}
	return nil
}

// cut ends the stream with an API-shaped error event: what the gate cannot
// decide never reaches the client.
func (g *actionGate) cut(msg string) error {
	msg = "airlock: " + msg + "; the stream was cut"
	g.drop()
	if err := g.next.Event(sse.Parse(errorEvent(apierror.Marshal(apierror.API, msg, g.ex.rec.RequestID)))); err != nil {
		return err
	}
	return errors.New(msg)
}

// eventData is the event's data, parsed again when a stage passed only bytes.
func eventData(ev sse.Event) []byte {
	if ev.Data == nil {
		return sse.Parse(ev.Raw).Data
	}
	return ev.Data
}
