package sse

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// got is an event with its fields made comparable; "<nil>" marks an absent field.
type got struct{ Raw, Name, Data, ID string }

func str(b []byte) string {
	if b == nil {
		return "<nil>"
	}
	return string(b)
}

// scanAll feeds data in pieces cut at the given offsets, then closes, and
// returns the events, the error and the tail.
func scanAll(data []byte, max int, cuts ...int) (evs []got, tail string, err error) {
	s := NewScanner(max)
	prev := 0
	drain := func() {
		for s.Scan() {
			e := s.Event()
			evs = append(evs, got{string(e.Raw), str(e.Name), str(e.Data), str(e.ID)})
		}
	}
	for _, c := range append(cuts, len(data)) {
		c = min(max0(c, prev), len(data))
		s.Write(data[prev:c])
		prev = c
		drain()
	}
	s.Close()
	drain()
	return evs, string(s.Tail()), s.Err()
}

func max0(a, b int) int { return max(a, b) }

func TestScannerFields(t *testing.T) {
	const n = "<nil>"
	cases := []struct {
		name, in string
		want     []got
		tail     string
	}{
		{"lf", "event: a\ndata: {\"x\":1}\n\n", []got{{"event: a\ndata: {\"x\":1}\n\n", "a", "{\"x\":1}", n}}, ""},
		{"crlf", "event: a\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n", []got{{"event: a\r\ndata: 1\r\n\r\n", "a", "1", n}, {"data: 2\r\n\r\n", n, "2", n}}, ""},
		{"cr", "event: a\rdata: 1\r\r", []got{{"event: a\rdata: 1\r\r", "a", "1", n}}, ""},
		{"mixed", "data: 1\r\n\ndata: 2\n\r\ndata: 3\r\r\n", []got{{"data: 1\r\n\n", n, "1", n}, {"data: 2\n\r\n", n, "2", n}, {"data: 3\r\r\n", n, "3", n}}, ""},
		{"multi-line data", "data: a\ndata:b\ndata\ndata:  c\n\n", []got{{"data: a\ndata:b\ndata\ndata:  c\n\n", n, "a\nb\n\n c", n}}, ""},
		{"comment only", ": keep-alive\n\n", []got{{": keep-alive\n\n", n, n, n}}, ""},
		{"comment between fields", "event: x\n: note\ndata: 1\n\n", []got{{"event: x\n: note\ndata: 1\n\n", "x", "1", n}}, ""},
		{"empty name and id", "event:\nid\ndata: 1\n\n", []got{{"event:\nid\ndata: 1\n\n", "", "1", ""}}, ""},
		{"id and retry", "id: 7\nretry: 10\ndata: x\n\n", []got{{"id: 7\nretry: 10\ndata: x\n\n", n, "x", "7"}}, ""},
		{"id with NUL ignored", "id: a\x00b\ndata: x\n\n", []got{{"id: a\x00b\ndata: x\n\n", n, "x", n}}, ""},
		{"last event name wins", "event: a\nevent: b\ndata: x\n\n", []got{{"event: a\nevent: b\ndata: x\n\n", "b", "x", n}}, ""},
		{"unknown field", "foo: bar\ndata: x\n\n", []got{{"foo: bar\ndata: x\n\n", n, "x", n}}, ""},
		{"blank line alone", "\n", []got{{"\n", n, n, n}}, ""},
		{"unterminated", "data: 1\n\ndata: 2\n", []got{{"data: 1\n\n", n, "1", n}}, "data: 2\n"},
		{"final cr is a line end", "data: 1\r\r", []got{{"data: 1\r\r", n, "1", n}}, ""},
		{"colon in value", "data: a: b\n\n", []got{{"data: a: b\n\n", n, "a: b", n}}, ""},
	}
	for _, c := range cases {
		evs, tail, err := scanAll([]byte(c.in), 1<<10)
		if err != nil || tail != c.tail || fmt.Sprint(evs) != fmt.Sprint(c.want) {
			t.Errorf("%s:\n got %q err %v tail %q\nwant %q tail %q", c.name, evs, err, tail, c.want, c.tail)
		}
	}
}

// A CR at the end of what was fed may be half of a CRLF: the event is not
// published until the next byte (or Close) says which.
func TestScannerWaitsOnFinalCR(t *testing.T) {
	s := NewScanner(100)
	s.Write([]byte("data: 1\r\n\r"))
	if s.Scan() {
		t.Fatalf("published %q before knowing whether \\n follows", s.Event().Raw)
	}
	s.Write([]byte("\n"))
	if !s.Scan() || string(s.Event().Raw) != "data: 1\r\n\r\n" {
		t.Fatalf("event %q", s.Event().Raw)
	}
}

func TestScannerBound(t *testing.T) {
	ev := "data: " + strings.Repeat("x", 50) + "\n\n" // 58 bytes
	cases := []struct {
		in      string
		max     int
		events  int
		tooLong bool
	}{
		{ev + ev, 58, 2, false},
		{ev + ev, 57, 0, true},
		{ev + "data: " + strings.Repeat("y", 100), 58, 1, true}, // never terminated
		{ev + strings.Repeat("data: z\n", 20), 58, 1, true},     // no blank line between events
	}
	for i, c := range cases {
		for _, cuts := range [][]int{nil, {1}, {30, 59, 60, 90}} {
			evs, _, err := scanAll([]byte(c.in), c.max, cuts...)
			if len(evs) != c.events || errors.Is(err, ErrTooLarge) != c.tooLong {
				t.Errorf("case %d cuts %v: %d events, err %v", i, cuts, len(evs), err)
			}
		}
	}
}

// The scanner never holds more than its limit plus the chunk it was fed,
// however long an attacker's line is.
func TestScannerMemoryIsBounded(t *testing.T) {
	s := NewScanner(1 << 10)
	chunk := bytes.Repeat([]byte("data: x\n"), 512)
	for range 1000 {
		s.Write(chunk)
		for s.Scan() {
		}
		if s.Err() != nil {
			break
		}
	}
	if !errors.Is(s.Err(), ErrTooLarge) || cap(s.buf) > 8<<10 {
		t.Fatalf("err %v, buffer %d bytes", s.Err(), cap(s.buf))
	}
}

func TestAppendEvent(t *testing.T) {
	if got := string(AppendEvent(nil, []byte("error"), []byte(`{"a":1}`), "\r\n")); got != "event: error\r\ndata: {\"a\":1}\r\n\r\n" {
		t.Fatalf("got %q", got)
	}
	if got := string(AppendEvent(nil, nil, []byte(`1`), "\n")); got != "data: 1\n\n" {
		t.Fatalf("got %q", got)
	}
	if LineEnding([]byte("a\r\nb")) != "\r\n" || LineEnding([]byte("a\rb\n")) != "\n" {
		t.Fatal("line ending")
	}
}
