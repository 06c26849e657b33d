package sse

import "bytes"

// AppendEvent appends an event with an optional name line (name nil = none)
// and one data line, in the line ending nl ("\n" or "\r\n"). data must not
// contain a line break; JSON from a marshaller never does.
func AppendEvent(dst, name, data []byte, nl string) []byte {
	if name != nil {
		dst = append(append(append(dst, "event: "...), name...), nl...)
	}
	dst = append(append(dst, "data: "...), data...)
	return append(append(dst, nl...), nl...)
}

// LineEnding returns "\r\n" when raw uses CRLF line endings, else "\n".
func LineEnding(raw []byte) string {
	if bytes.Contains(raw, []byte("\r\n")) {
		return "\r\n"
	}
	return "\n"
}

// Parse frames one complete event, as an Event's Raw holds it (a stage that
// rewrote an event passes on only its bytes).
func Parse(raw []byte) Event {
	s := NewScanner(len(raw) + 1)
	s.Write(raw)
	s.Close()
	if s.Scan() {
		return s.Event()
	}
	return Event{Raw: raw}
}
