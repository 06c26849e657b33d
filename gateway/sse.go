package gateway

import (
	"bytes"
	"errors"
	"io"

	"github.com/tidwall/gjson"

	"github.com/airlock-dev/airlock/internal/sse"
	"github.com/airlock-dev/airlock/policy/mask"
)

var errAuditFailed = errors.New("audit record could not be written; response withheld")

// sseBody masks an SSE stream (through mask.Stream) and hands complete
// events to the client as they come, except the terminal ones
// (message_stop, error), which it holds until the stream ends and the audit
// record is written.
type sseBody struct {
	ex     *exchange
	src    io.ReadCloser
	sc     *sse.Scanner
	stream *mask.Stream // nil when not masking
	buf    []byte
	out    []byte // complete events ready for the client
	held   []byte // terminal events, released after the audit
	srcEOF bool   // upstream ended; the events before its end go out first
	eof    bool
}

func newSSEBody(ex *exchange, src io.ReadCloser) *sseBody {
	b := &sseBody{ex: ex, src: src, buf: ex.g.bufs.Get(), sc: sse.NewScanner(maxEvent)}
	if m := ex.g.cfg.Masker; m != nil && ex.maskResp {
		b.stream = m.NewEventStream(b.event, mask.Selection(ex.decision.Mask.Response), mask.StreamOptions{})
	}
	return b
}

func (b *sseBody) Read(p []byte) (int, error) {
	for len(b.out) == 0 {
		if b.eof {
			return 0, io.EOF
		}
		if err := b.advance(); err != nil {
			return 0, err
		}
	}
	n := copy(p, b.out)
	b.out = b.out[n:]
	return n, nil
}

func (b *sseBody) advance() error {
	if b.srcEOF {
		return b.end()
	}
	n, err := b.src.Read(b.buf)
	if n > 0 {
		b.sc.Write(b.buf[:n])
		if werr := b.scan(); werr != nil {
			b.ex.g.finish(b.ex)
			return werr
		}
	}
	switch {
	case err == io.EOF:
		b.srcEOF = true
	case err != nil:
		b.ex.g.finish(b.ex)
		return err
	}
	return nil
}

// end flushes what the masker held, audits, then releases the held events.
func (b *sseBody) end() error {
	b.eof = true
	b.sc.Close()
	b.scan()
	tail := b.sc.Tail() // a last event without its blank line
	if b.stream != nil {
		b.stream.Finish(tail)
		addCounts(b.ex, b.stream.Result())
	} else if len(tail) > 0 {
		b.event(sse.Event{Raw: tail})
	}
	if b.ex.g.finish(b.ex) != nil {
		b.held = []byte("event: error\ndata: " + string(auditFailedBody(b.ex)) + "\n\n")
	}
	b.out = append(b.out, b.held...)
	b.held = nil
	return nil
}

// scan hands each complete upstream event to the masker or straight on.
func (b *sseBody) scan() error {
	for b.sc.Scan() {
		if b.stream == nil {
			b.event(b.sc.Event())
		} else if err := b.stream.Event(b.sc.Event()); err != nil {
			return err
		}
	}
	return b.sc.Err()
}

// event takes usage from, records and queues one complete event.
func (b *sseBody) event(e sse.Event) error {
	ev := scrubBytes(e.Raw, b.ex.secret())
	switch eventName(e) {
	case "message_start":
		takeUsage(&b.ex.rec, gjson.GetBytes(e.Data, "message.usage"))
	case "message_delta":
		takeUsage(&b.ex.rec, gjson.GetBytes(e.Data, "usage"))
	}
	b.ex.rec.BytesOut += int64(len(ev))
	if rc := b.ex.rc; rc != nil {
		rc.Events = append(rc.Events, eventAt(b.ex, bytes.Clone(ev)))
	}
	if name := eventName(e); name == "message_stop" || name == "error" || len(b.held) > 0 {
		b.held = append(b.held, ev...)
		return nil
	}
	b.out = append(b.out, ev...)
	return nil
}

// eventName is the event's name, or the type its data declares.
func eventName(e sse.Event) string {
	if len(e.Name) > 0 {
		return string(e.Name)
	}
	return gjson.GetBytes(e.Data, "type").String()
}

// maxEvent bounds one upstream SSE event.
const maxEvent = 4 << 20

// Close finishes the audit if the client went away before the end.
func (b *sseBody) Close() error {
	b.ex.g.finish(b.ex)
	if b.buf != nil {
		b.ex.g.bufs.Put(b.buf)
		b.buf = nil
	}
	return b.src.Close()
}
