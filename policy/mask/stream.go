package mask

import (
	"bytes"
	"errors"
	"io"
	"sort"

	"go.uber.org/zap"
)

// ErrStreamCut is returned by Write after the stream was ended with an
// error event because a block exceeded the hold bound (CutOnOverflow).
var ErrStreamCut = errors.New("stream cut: masking hold bound exceeded")

// minEventLimit bounds one buffered SSE event; a larger event passes
// through unparsed (and unmasked, flagged Incomplete) so memory stays bounded.
const minEventLimit = 1 << 20

// Stream masks a Messages SSE stream: it parses events, masks the text of
// text_delta, input_json_delta and citations_delta per content block, holds
// back only what may still become part of a match, and passes every other
// event byte for byte. Not safe for concurrent use.
type Stream struct {
	ec         *engineAndCache
	sel        Selection
	active     []bool
	dst        io.Writer
	opt        StreamOptions
	log        *zap.Logger
	maxHold    int
	cut        bool
	eventLimit int

	ev        []byte // raw bytes of the event being read
	lineStart int    // where the current line starts in ev
	oversize  bool   // passing an oversized event through until its end
	lineLen   int    // bytes (without \r) of the current line while oversize
	blocks    map[int]*block
	res       Result
	err       error
	passed    int
}

// NewStream returns a Stream that writes masked events to dst.
func (m *Masker) NewStream(dst io.Writer, sel Selection, opt StreamOptions) *Stream {
	ec := m.engine.Load()
	log := opt.Log
	if log == nil {
		log = zap.NewNop()
	}
	return &Stream{log: log.Named("mask"),
		ec: ec, sel: sel, active: ec.e.selection(sel), dst: dst, opt: opt,
		maxHold: m.cfg.MaxHold, cut: m.cfg.CutOnOverflow,
		eventLimit: max(minEventLimit, 4*m.cfg.MaxHold), blocks: map[int]*block{},
	}
}

// Write takes SSE bytes from upstream in any chunking and writes each
// event, masked, as soon as it is complete and decided.
func (s *Stream) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n := len(p)
	for len(p) > 0 && s.err == nil {
		if s.oversize {
			p = s.passOversize(p)
			continue
		}
		p = s.readLine(p)
	}
	if s.err != nil {
		return n, s.err
	}
	return n, nil
}

// readLine consumes bytes up to and including one newline.
func (s *Stream) readLine(p []byte) []byte {
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		s.ev = append(s.ev, p...)
		if len(s.ev) > s.eventLimit {
			s.startOversize()
		}
		return nil
	}
	s.ev = append(s.ev, p[:i+1]...)
	line := bytes.TrimSuffix(s.ev[s.lineStart:len(s.ev)-1], []byte("\r"))
	s.lineStart = len(s.ev)
	if len(line) == 0 {
		s.dispatch(s.ev)
		s.ev, s.lineStart = s.ev[:0], 0
	} else if len(s.ev) > s.eventLimit {
		s.startOversize()
	}
	return p[i+1:]
}

func (s *Stream) startOversize() {
	s.malformed("event larger than the parse bound passed through unmasked", len(s.ev))
	s.res.Incomplete = true
	s.lineLen = len(bytes.TrimSuffix(s.ev[s.lineStart:], []byte("\r")))
	s.write(s.ev, false)
	s.ev, s.lineStart, s.oversize = s.ev[:0], 0, true
}

// passOversize writes bytes of an oversized event through until the blank
// line that ends it.
func (s *Stream) passOversize(p []byte) []byte {
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		s.lineLen += len(bytes.TrimSuffix(p, []byte("\r")))
		s.write(p, false)
		return nil
	}
	s.lineLen += len(bytes.TrimSuffix(p[:i], []byte("\r")))
	s.write(p[:i+1], false)
	if s.lineLen == 0 {
		s.oversize = false
	}
	s.lineLen = 0
	return p[i+1:]
}

// Close flushes every held block and any trailing bytes that never formed
// a complete event (masked as plain text, since they cannot be parsed).
func (s *Stream) Close() error {
	if s.err != nil {
		if errors.Is(s.err, ErrStreamCut) {
			return nil
		}
		return s.err
	}
	s.flushAll()
	if len(s.ev) > 0 && !s.oversize {
		s.malformed("stream ended inside an event; trailing bytes masked as plain text", len(s.ev))
		out, res := s.ec.text(string(s.ev), s.sel)
		s.res.Add(res)
		s.write([]byte(out), false)
		s.ev = s.ev[:0]
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

// Passthrough counts malformed or oversized events passed through unparsed.
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

func (s *Stream) write(p []byte, complete bool) {
	if s.err != nil || len(p) == 0 {
		return
	}
	if _, err := s.dst.Write(p); err != nil {
		s.err = err
		return
	}
	if complete && s.opt.OnEvent != nil {
		s.opt.OnEvent(p)
	}
}
