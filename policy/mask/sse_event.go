package mask

import (
	"encoding/json"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/airlock-dev/airlock/internal/sse"
)

// maxOpenBlocks bounds the content blocks a stream keeps state for; the
// API streams blocks one after another, so more means a broken upstream.
const maxOpenBlocks = 16

// block is the masking state of one content block of a stream.
type block struct {
	sc       *scanner
	path     string   // JSON path of the masked field in the delta event
	template []byte   // data of the last delta event, to carry flushed text
	at       textSpan // where its text's JSON string lies in template
	name     []byte   // its event name
	nl       string   // its line ending
}

// sseData holds the fields of an event's data the masker looks at.
type sseData struct {
	Type      string
	Index     *int
	DeltaType string
	Text      *string  // delta.text, delta.partial_json or delta.citation.cited_text
	At        textSpan // where Text's JSON string (quotes included) lies in the data
}

// textSpan locates a JSON string in an event's data, so that a rewrite
// splices it without looking for it again; the zero span means unknown.
type textSpan struct{ lo, hi int }

// parseData reads the fields with gjson: events are parsed on the hot
// path and reflection-based decoding cost most of the per-event time. The
// common delta shape takes parseDelta's shortcut.
func parseData(data []byte) (sseData, bool) {
	if d, ok := parseDelta(data); ok {
		return d, true
	}
	return parseDataGJSON(data)
}

func parseDataGJSON(data []byte) (sseData, bool) {
	if !gjson.ValidBytes(data) {
		return sseData{}, false
	}
	r := gjson.ParseBytes(data)
	d := sseData{Type: r.Get("type").String(), DeltaType: r.Get("delta.type").String()}
	if idx := r.Get("index"); idx.Type == gjson.Number {
		i := int(idx.Int())
		d.Index = &i
	}
	path := deltaTextPath(d.DeltaType)
	if t := r.Get(path); path != "" && t.Type == gjson.String {
		text := t.String()
		d.Text = &text
	}
	return d, true
}

// deltaTextPath is where a delta of this type carries its text ("" = none).
func deltaTextPath(deltaType string) string {
	switch deltaType {
	case "text_delta":
		return "delta.text"
	case "input_json_delta":
		return "delta.partial_json"
	case "citations_delta":
		return "delta.citation.cited_text"
	}
	return ""
}

// dispatch handles one complete event.
func (s *Stream) dispatch(ev sse.Event) {
	d, valid := parseData(ev.Data)
	if !valid {
		if ev.Data != nil {
			s.malformed("data is not JSON; passed through", len(ev.Raw))
		}
		s.write(ev)
		return
	}
	switch d.Type {
	case "content_block_delta":
		s.delta(ev, &d)
		return
	case "content_block_stop":
		if d.Index != nil {
			s.flushBlock(*d.Index)
		}
	case "message_stop", "error":
		s.flushAll()
	}
	s.write(ev)
}

func (s *Stream) delta(ev sse.Event, d *sseData) {
	if d.Index == nil || d.Text == nil {
		s.write(ev)
		return
	}
	switch d.DeltaType {
	case "text_delta":
		s.feedBlock(ev, d, "delta.text")
	case "input_json_delta":
		s.feedBlock(ev, d, "delta.partial_json")
	case "citations_delta":
		out, res := s.ec.text(*d.Text, s.sel, s.scope)
		s.res.Add(res)
		if res.Counts == nil {
			s.write(ev)
			return
		}
		s.rewrite(sse.LineEnding(ev.Raw), ev.Name, ev.Data, "delta.citation.cited_text", textSpan{}, out)
	default:
		s.write(ev) // thinking, signature and unknown deltas
	}
}

// feedBlock adds text to a block's scanner and writes what is decided.
// An event whose text is decided unchanged at once passes byte for byte.
func (s *Stream) feedBlock(ev sse.Event, d *sseData, path string) {
	index, text := *d.Index, *d.Text
	b := s.blocks[index]
	if b == nil || b.path != path {
		s.flushBlock(index)
		if len(s.blocks) >= maxOpenBlocks {
			s.flushAll() // a stream that never closes its blocks must not grow memory
		}
		b = &block{sc: newScanner(s.ec.e, s.active), path: path}
		s.blocks[index] = b
	}
	// Reuse the block's buffers: data and name are slices of the event
	// buffer, which the next event overwrites.
	b.template, b.at = append(b.template[:0], ev.Data...), d.At
	b.name, b.nl = cloneOrNil(b.name, ev.Name), sse.LineEnding(ev.Raw)
	heldBefore := b.sc.held() > 0 || len(b.sc.out) > 0
	countsBefore := countSum(b.sc.res.Counts)
	b.sc.feed([]byte(text))
	b.sc.advance(false)
	if b.sc.held() > s.maxHold && !s.overflow(b) {
		return
	}
	out := b.sc.take(false)
	if !heldBefore && countSum(b.sc.res.Counts) == countsBefore && string(out) == text {
		s.write(ev)
		return
	}
	if len(out) > 0 {
		s.rewrite(b.nl, b.name, b.template, path, b.at, string(out))
	}
}

// overflow handles a block holding more than MaxHold; false = stream cut.
func (s *Stream) overflow(b *block) bool {
	if s.cut {
		s.cutStream("a streamed block exceeded the masking hold bound")
		return false
	}
	b.sc.flushRaw()
	return true
}

// flushBlock ends a block: everything held is decided and written.
func (s *Stream) flushBlock(index int) {
	b := s.blocks[index]
	if b == nil {
		return
	}
	delete(s.blocks, index)
	b.sc.advance(true)
	s.res.Add(b.sc.res)
	if out := b.sc.take(true); len(out) > 0 {
		s.rewrite(b.nl, b.name, b.template, b.path, b.at, string(out))
	}
}

// rewrite writes an event with one field of its data replaced, framed as
// an optional event line and one data line, in the original line endings.
// The event is built in the stream's own buffers, reused by the next
// rewrite: like the upstream's events, whoever keeps one copies it.
func (s *Stream) rewrite(nl string, name, data []byte, path string, at textSpan, value string) {
	newData, ok := setString(s.dataBuf[:0], data, path, at, value)
	if !ok {
		return // data parsed as JSON a moment ago; cannot happen
	}
	s.dataBuf = newData
	s.rawBuf = sse.AppendEvent(s.rawBuf[:0], name, newData, nl)
	s.write(sse.Event{Raw: s.rawBuf, Name: name, Data: newData})
}

// setString appends to dst data with the string at path replaced by value.
// It splices the bytes where the value sits (at, when the parse found it;
// else gjson finds it), encoding it as sjson does, and leaves anything
// unusual (a value that is not a string) to sjson.
func setString(dst, data []byte, path string, at textSpan, value string) ([]byte, bool) {
	if at.hi == 0 {
		r := gjson.GetBytes(data, path)
		if r.Type != gjson.String || r.Index <= 0 || r.Index+len(r.Raw) > len(data) {
			out, err := sjson.SetBytes(append(dst, data...), path, value)
			return out, err == nil
		}
		at = textSpan{r.Index, r.Index + len(r.Raw)}
	}
	dst = append(dst, data[:at.lo]...)
	dst = appendJSONString(dst, value)
	return append(dst, data[at.hi:]...), true
}

// appendJSONString encodes s as sjson.SetBytes would: verbatim in quotes
// when nothing needs escaping, else as encoding/json writes it.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > 0x7f || c == '"' || c == '\\' {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	return append(append(append(dst, '"'), s...), '"')
}

// cloneOrNil copies src into dst's storage; nil stays nil (no event line).
func cloneOrNil(dst, src []byte) []byte {
	if src == nil {
		return nil
	}
	if dst == nil {
		dst = make([]byte, 0, len(src))
	}
	return append(dst[:0], src...)
}

func countSum(c map[string]int) int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}
