package gateway

import (
	"bytes"
	"errors"
	"io"

	"github.com/tidwall/gjson"

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
	in     io.Writer // the mask stream, or the body itself when not masking
	stream *mask.Stream
	buf    []byte
	split  []byte // output bytes of an event not yet complete
	out    []byte // complete events ready for the client
	held   []byte // terminal events, released after the audit
	srcEOF bool   // upstream ended; the events before its end go out first
	eof    bool
}

func newSSEBody(ex *exchange, src io.ReadCloser) *sseBody {
	b := &sseBody{ex: ex, src: src, buf: ex.g.bufs.Get()}
	b.in = b
	if m := ex.g.cfg.Masker; m != nil && ex.maskResp {
		b.stream = m.NewStream(b, mask.Selection(ex.decision.Mask.Response), mask.StreamOptions{})
		b.in = b.stream
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
		if _, werr := b.in.Write(b.buf[:n]); werr != nil {
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
	if b.stream != nil {
		b.stream.Close()
		addCounts(b.ex, b.stream.Result())
	}
	if len(b.split) > 0 { // a last event without its blank line
		b.event(append([]byte(nil), b.split...))
		b.split = b.split[:0]
	}
	if b.ex.g.finish(b.ex) != nil {
		b.held = []byte("event: error\ndata: " + string(auditFailedBody(b.ex)) + "\n\n")
	}
	b.out = append(b.out, b.held...)
	b.held = nil
	return nil
}

// Write receives the (masked) stream and cuts it into events.
func (b *sseBody) Write(p []byte) (int, error) {
	b.split = append(b.split, p...)
	start := 0
	for {
		i := bytes.Index(b.split[start:], []byte("\n\n"))
		if i < 0 {
			break
		}
		end := start + i + 2
		b.event(b.split[start:end])
		start = end
	}
	b.split = b.split[:copy(b.split, b.split[start:])]
	return len(p), nil
}

// event takes usage from, records and queues one complete event.
func (b *sseBody) event(ev []byte) {
	ev = scrubBytes(ev, b.ex.secret())
	name, data := sseFields(ev)
	switch name {
	case "message_start":
		takeUsage(&b.ex.rec, gjson.GetBytes(data, "message.usage"))
	case "message_delta":
		takeUsage(&b.ex.rec, gjson.GetBytes(data, "usage"))
	}
	b.ex.rec.BytesOut += int64(len(ev))
	if rc := b.ex.rc; rc != nil {
		rc.Events = append(rc.Events, eventAt(b.ex, bytes.Clone(ev)))
	}
	if name == "message_stop" || name == "error" || len(b.held) > 0 {
		b.held = append(b.held, ev...)
		return
	}
	b.out = append(b.out, ev...)
}

// sseFields returns an event's name and its data payload.
func sseFields(ev []byte) (name string, data []byte) {
	for line := range bytes.SplitSeq(ev, []byte("\n")) {
		switch {
		case bytes.HasPrefix(line, []byte("event:")):
			name = string(bytes.TrimSpace(line[6:]))
		case bytes.HasPrefix(line, []byte("data:")):
			data = bytes.TrimSpace(line[5:])
		}
	}
	if name == "" && len(data) > 0 {
		name = gjson.GetBytes(data, "type").String()
	}
	return name, data
}

// Close finishes the audit if the client went away before the end.
func (b *sseBody) Close() error {
	b.ex.g.finish(b.ex)
	if b.buf != nil {
		b.ex.g.bufs.Put(b.buf)
		b.buf = nil
	}
	return b.src.Close()
}
