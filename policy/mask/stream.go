package mask

import (
	"errors"
	"io"
	"sort"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/internal/sse"
)

// ErrStreamCut is returned once the stream was ended with an error event:
// a block exceeded the hold bound (CutOnOverflow) or an event exceeded the
// parse bound (always: an event that cannot be read cannot be masked).
var ErrStreamCut = errors.New("stream cut: masking bound exceeded")

// minEventLimit bounds one buffered SSE event.
const minEventLimit = 1 << 20

// Emit receives each decided event; its slices are valid only during the
// call. An error ends the stream.
type Emit func(sse.Event) error

// Stream masks a Messages SSE stream: it parses events, masks the text of
// text_delta, input_json_delta and citations_delta per content block, holds
// back only what may still become part of a match, and passes every other
// event byte for byte. Not safe for concurrent use.
type Stream struct {
	ec      *engineAndCache
	scope   Scope
	sel     Selection
	active  []bool
	emit    Emit
	opt     StreamOptions
	log     *zap.Logger
	maxHold int
	cut     bool

	sc     *sse.Scanner // frames the bytes given to Write
	blocks map[int]*block
	res    Result
	err    error
	passed int

	dataBuf, rawBuf []byte // the last rewritten event (see rewrite)
}

// NewStream returns a Stream that is fed bytes (Write, Close) and writes
// masked events to dst.
func (m *Masker) NewStream(dst io.Writer, sel Selection, opt StreamOptions) *Stream {
	s := m.NewEventStream(func(ev sse.Event) error { _, err := dst.Write(ev.Raw); return err }, sel, opt)
	s.sc = sse.NewScanner(m.EventLimit())
	return s
}

// NewEventStream returns a Stream that is fed whole events (Event, Finish),
// for a caller that frames the stream itself, and hands masked events to emit.
func (m *Masker) NewEventStream(emit Emit, sel Selection, opt StreamOptions) *Stream {
	return m.For("").NewEventStream(emit, sel, opt)
}

// NewEventStream is Masker.NewEventStream within the scope.
func (s Scoped) NewEventStream(emit Emit, sel Selection, opt StreamOptions) *Stream {
	m, ec := s.m, s.m.engine.Load()
	log := opt.Log
	if log == nil {
		log = zap.NewNop()
	}
	return &Stream{log: log.Named("mask"),
		ec: ec, scope: s.scope, sel: sel, active: ec.e.selection(sel), emit: emit, opt: opt,
		maxHold: m.cfg.MaxHold, cut: m.cfg.CutOnOverflow, blocks: map[int]*block{},
	}
}

// EventLimit is the size of the largest SSE event a Stream parses; a
// larger one ends the stream.
func (m *Masker) EventLimit() int { return max(minEventLimit, 4*m.cfg.MaxHold) }

// Write takes SSE bytes from upstream in any chunking and writes each
// event, masked, as soon as it is complete and decided.
func (s *Stream) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	s.sc.Write(p)
	s.drain()
	return len(p), s.err
}

func (s *Stream) drain() {
	for s.err == nil && s.sc.Scan() {
		s.dispatch(s.sc.Event())
	}
	if s.err == nil && s.sc.Err() != nil {
		s.log.Warn("sse event larger than the parse bound; stream cut", zap.Int("limit_bytes", s.sc.Buffered()))
		s.cutStream("an event exceeded the parse bound")
	}
}

// Close ends a stream fed through Write (see Finish).
func (s *Stream) Close() error {
	if s.err == nil {
		s.sc.Close()
		s.drain()
	}
	return s.Finish(s.sc.Tail())
}

// Event masks one whole event.
func (s *Stream) Event(ev sse.Event) error {
	if s.err == nil {
		s.dispatch(ev)
	}
	return s.err
}

// Finish flushes every held block and masks tail, bytes that never formed
// a complete event, as plain text, since they cannot be parsed.
func (s *Stream) Finish(tail []byte) error {
	if s.err != nil {
		if errors.Is(s.err, ErrStreamCut) {
			return nil
		}
		return s.err
	}
	s.flushAll()
	if len(tail) > 0 && s.err == nil {
		s.malformed("stream ended inside an event; trailing bytes masked as plain text", len(tail))
		out, res := s.ec.text(string(tail), s.sel, s.scope)
		s.res.Add(res)
		if err := s.emit(sse.Event{Raw: []byte(out)}); err != nil {
			s.err = err
		}
	}
	return s.err
}

// Result reports what the stream masked so far.
func (s *Stream) Result() Result {
	r := Result{Incomplete: s.res.Incomplete}
	r.Add(s.res)
	for _, b := range s.blocks {
		r.Add(b.sc.res)
	}
	return r
}

// malformed counts and logs an event that could not be parsed.
func (s *Stream) malformed(reason string, size int) {
	s.passed++
	s.log.Warn("malformed sse event", zap.String("reason", reason), zap.Int("bytes", size))
}

// Passthrough counts malformed events passed through unparsed.
func (s *Stream) Passthrough() int { return s.passed }

func (s *Stream) flushAll() {
	idx := make([]int, 0, len(s.blocks))
	for i := range s.blocks {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		s.flushBlock(i)
	}
}

func (s *Stream) write(ev sse.Event) {
	if s.err != nil || len(ev.Raw) == 0 {
		return
	}
	if err := s.emit(ev); err != nil {
		s.err = err
		return
	}
	if s.opt.OnEvent != nil {
		s.opt.OnEvent(ev.Raw)
	}
}

// cutStream ends the stream with an API-shaped error event.
func (s *Stream) cutStream(why string) {
	data := []byte(`{"type":"error","error":{"type":"api_error","message":"airlock: ` + why + `; the stream was cut"}}`)
	s.write(sse.Event{Raw: sse.AppendEvent(nil, []byte("error"), data, "\n"), Name: []byte("error"), Data: data})
	s.res.Incomplete = true
	if s.err == nil {
		s.err = ErrStreamCut
	}
}
