// Package sse reads server-sent event streams incrementally. Fed bytes in
// any chunking, a Scanner yields whole events with the fields the WHATWG
// event-stream format defines and the raw bytes they came from, so an event
// nobody changed is forwarded byte for byte. One event is bounded: the
// scanner never holds more than its limit plus the chunk it was last fed,
// and the caller decides what an oversized event means.
package sse

import (
	"bytes"
	"errors"
)

// ErrTooLarge reports an event longer than the scanner's limit. It is final:
// the scanner yields nothing more.
var ErrTooLarge = errors.New("sse: event exceeds the size limit")

// Event is one event of a stream. Its slices are only valid until the next
// call to the Scanner that returned it.
type Event struct {
	Raw  []byte // the event as received, up to and including its blank line
	Name []byte // value of the last "event" field; nil when there is none
	Data []byte // "data" field values joined with "\n"; nil when there is none
	ID   []byte // value of the last "id" field; nil when there is none
}

// span locates a field value relative to the start of the current event.
type span struct{ lo, hi int }

// Scanner splits a stream into events. Lines end in CRLF, LF or CR. It is
// not safe for concurrent use.
type Scanner struct {
	max   int
	buf   []byte
	start int // start of the current event in buf
	line  int // start of the current line
	pos   int // where the search for the next line end resumes
	ended bool
	err   error
	ev    Event

	name, id, data *span // fields of the current event (nil = absent)
	nameS, idS     span  // storage behind name and id
	dataS          span  // storage behind data while it is one line
	joined         []byte
	dataLines      int
}

// NewScanner returns a Scanner that fails with ErrTooLarge on any event
// longer than max bytes (raw, blank line included).
func NewScanner(max int) *Scanner { return &Scanner{max: max} }

// Write feeds the next bytes of the stream; after ErrTooLarge it drops
// them. It never fails; the error result satisfies io.Writer.
func (s *Scanner) Write(p []byte) (int, error) {
	if s.err != nil {
		return len(p), nil
	}
	if s.start > 0 { // drop the events already handed out
		n := copy(s.buf, s.buf[s.start:])
		s.buf = s.buf[:n]
		s.line -= s.start
		s.pos -= s.start
		s.start = 0
	}
	s.buf = append(s.buf, p...)
	return len(p), nil
}

// Close says the stream ended: a final CR can now be read as a line end,
// and what never formed an event is left for Tail.
func (s *Scanner) Close() { s.ended = true }

// Scan advances to the next complete event, which Event then returns. It
// returns false when it needs more input (or, after Close, when the stream
// is exhausted) and when an event was too large (see Err).
func (s *Scanner) Scan() bool {
	for s.err == nil {
		end, next, ok := s.lineEnd()
		if !ok {
			if len(s.buf)-s.start > s.max {
				s.err = ErrTooLarge
			}
			return false
		}
		blank := end == s.line
		if !blank {
			s.field(s.line-s.start, end-s.start)
		}
		s.line, s.pos = next, next
		if blank {
			if next-s.start > s.max {
				s.err = ErrTooLarge
				return false
			}
			s.dispatch(next)
			return true
		}
	}
	return false
}

// Event returns the event found by the last successful Scan.
func (s *Scanner) Event() Event { return s.ev }

// Err returns ErrTooLarge once an event exceeded the limit, else nil.
func (s *Scanner) Err() error { return s.err }

// Tail returns the bytes after the last complete event: after Close and a
// Scan that returned false, an event the stream never terminated.
func (s *Scanner) Tail() []byte { return s.buf[s.start:] }

// Buffered is the number of bytes the scanner holds.
func (s *Scanner) Buffered() int { return len(s.buf) - s.start }

// lineEnd finds the end of the line starting at s.line: end is where its
// terminator begins, next where the following line starts.
func (s *Scanner) lineEnd() (end, next int, ok bool) {
	b := s.buf[s.pos:]
	nl := bytes.IndexByte(b, '\n')
	upto := b
	if nl >= 0 {
		upto = b[:nl]
	}
	if cr := bytes.IndexByte(upto, '\r'); cr >= 0 {
		switch {
		case cr+1 < len(b) && b[cr+1] == '\n':
			return s.pos + cr, s.pos + cr + 2, true
		case cr+1 < len(b) || s.ended:
			return s.pos + cr, s.pos + cr + 1, true
		}
		s.pos += cr // a CR at the end: wait for the byte that says CR or CRLF
		return 0, 0, false
	}
	if nl >= 0 {
		return s.pos + nl, s.pos + nl + 1, true
	}
	s.pos = len(s.buf)
	return 0, 0, false
}

// field records one non-blank line, given relative to the event start.
func (s *Scanner) field(lo, hi int) {
	line := s.buf[s.start+lo : s.start+hi]
	colon := bytes.IndexByte(line, ':')
	if colon == 0 {
		return // a comment
	}
	key, v := line, span{hi, hi}
	if colon > 0 {
		key, v.lo = line[:colon], lo+colon+1
		if v.lo < hi && s.buf[s.start+v.lo] == ' ' {
			v.lo++
		}
	}
	switch string(key) {
	case "event":
		s.nameS, s.name = v, &s.nameS
	case "id":
		if bytes.IndexByte(s.buf[s.start+v.lo:s.start+v.hi], 0) < 0 {
			s.idS, s.id = v, &s.idS
		}
	case "data":
		s.addData(v)
	}
}

// addData appends a data line. One line stays a slice of the buffer (the
// usual case: no copy); more are joined in a buffer of the scanner's own.
func (s *Scanner) addData(v span) {
	s.dataLines++
	switch s.dataLines {
	case 1:
		s.dataS, s.data = v, &s.dataS
		return
	case 2:
		s.joined = append(s.joined[:0], s.value(&s.dataS)...)
	}
	s.joined = append(append(s.joined, '\n'), s.value(&v)...)
}

func (s *Scanner) value(v *span) []byte {
	if v == nil {
		return nil
	}
	return s.buf[s.start+v.lo : s.start+v.hi : s.start+v.hi]
}

// dispatch publishes the event ending at next and starts the next one.
func (s *Scanner) dispatch(next int) {
	s.ev = Event{Raw: s.buf[s.start:next:next], Name: s.value(s.name), ID: s.value(s.id), Data: s.value(s.data)}
	if s.dataLines > 1 {
		s.ev.Data = s.joined
	}
	s.start = next
	s.name, s.id, s.data, s.dataLines = nil, nil, nil, 0
}
