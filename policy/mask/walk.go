package mask

import (
	"bytes"
	"encoding/json"
	"errors"
	"sort"
	"time"
	"unicode/utf8"
)

// walker masks the strings of a Messages body that carry content and
// records the edits as splices into the original bytes.
type walker struct {
	ec     *engineAndCache
	sel    Selection
	active []bool
	fast   bool // the selection allows skipping strings the prefilter clears
	b      []byte
	edits  []edit
	res    Result
	depth  int     // blocks and tool-input containers entered: see maxWalkDepth
	bud    *budget // Request's masking budget (nil for responses)
	scope  Scope
}

// maxWalkDepth bounds the walk's recursion (tool_result blocks nest, tool
// inputs are arbitrary JSON) on its own, whatever depth the caller allowed
// (the gateway refuses bodies deeper than 512 before masking).
const maxWalkDepth = 1024

var errTooDeep = errors.New("json nested too deep to mask")

type edit struct {
	start, end int
	repl       []byte
}

// Request masks a Messages request body: system, and messages[].content
// (text, tool_use input strings, tool_result content). Thinking blocks,
// signatures, images and documents are left alone. A body that is not JSON
// is scanned as text. If nothing changes the same slice is returned. A body
// whose masking would exceed Config.Budget is an error wrapping
// ErrBudgetExceeded (never a partly masked body).
func (m *Masker) Request(body []byte, sel Selection) ([]byte, Result, error) {
	return m.For("").Request(body, sel)
}

// Request is Masker.Request within the scope.
func (s Scoped) Request(body []byte, sel Selection) ([]byte, Result, error) {
	return s.walk(body, sel, (*walker).request, s.m.cfg.Budget)
}

// Response masks a non-streamed Messages response: content[] as in Request.
// Responses have no budget: their size is bounded by the model's output.
func (m *Masker) Response(body []byte, sel Selection) ([]byte, Result, error) {
	return m.For("").Response(body, sel)
}

// Response is Masker.Response within the scope.
func (s Scoped) Response(body []byte, sel Selection) ([]byte, Result, error) {
	return s.walk(body, sel, (*walker).response, -1)
}

// walk masks body from top; budget is Config.Budget's meaning (-1: none),
// started once the fast path has not settled the body.
func (s Scoped) walk(body []byte, sel Selection, top func(*walker, []member) error, budget time.Duration) ([]byte, Result, error) {
	ec := s.m.engine.Load()
	active := ec.e.selection(sel)
	fast := ec.e.fastPathAllowed(active)
	if fast && rawNeedsNoMasking(ec.e, body, active) {
		return body, Result{}, nil
	}
	return ec.walkBody(body, &walker{ec: ec, sel: sel, active: active, fast: fast, b: body, bud: newBudget(budget), scope: s.scope}, top)
}

// walkBody is the full path: decode and mask each content string.
func (ec *engineAndCache) walkBody(body []byte, w *walker, top func(*walker, []member) error) ([]byte, Result, error) {
	sel := w.sel
	start := skipSpace(body, 0)
	if !json.Valid(body) {
		out, res := ec.textActive(string(body), sel, w.active, w.bud, w.scope)
		if w.bud.exceeded() {
			return nil, Result{}, w.bud.err(len(body))
		}
		if res.Counts == nil {
			return body, res, nil
		}
		return []byte(out), res, nil
	}
	if start >= len(body) || body[start] != '{' {
		return body, Result{}, nil
	}
	ms, err := members(body, start)
	if err == nil {
		err = top(w, ms)
	}
	if errors.Is(err, ErrBudgetExceeded) {
		return nil, Result{}, err // nothing partly masked leaves
	}
	if err != nil {
		return body, Result{}, err
	}
	return w.apply(), w.res, nil
}

// rawNeedsNoMasking is the whole-body fast path (see fastpath.go).
func rawNeedsNoMasking(e *engine, body []byte, active []bool) bool {
	switch e.scanRaw(body, active) {
	case rawClean:
		return true
	case rawCleanIfKey:
		return json.Valid(body) // keys are never masked in a JSON body
	}
	return false
}

func (w *walker) request(ms []member) error {
	for _, m := range ms {
		switch m.key {
		case "system":
			if err := w.textOrBlocks(m.vs); err != nil {
				return err
			}
		case "messages":
			if err := w.messages(m.vs); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *walker) response(ms []member) error {
	for _, m := range ms {
		if m.key == "content" {
			return w.textOrBlocks(m.vs)
		}
	}
	return nil
}

func (w *walker) messages(i int) error {
	if w.b[i] != '[' {
		return nil
	}
	els, err := elements(w.b, i)
	for _, el := range els {
		if w.b[el[0]] != '{' {
			continue
		}
		ms, err := members(w.b, el[0])
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.key == "content" {
				if err := w.textOrBlocks(m.vs); err != nil {
					return err
				}
			}
		}
	}
	return err
}

// textOrBlocks handles a value that is a string or a list of blocks.
func (w *walker) textOrBlocks(i int) error {
	switch w.b[i] {
	case '"':
		return w.maskString(i)
	case '[':
		els, err := elements(w.b, i)
		for _, el := range els {
			if w.b[el[0]] == '{' {
				if err := w.block(el[0]); err != nil {
					return err
				}
			}
		}
		return err
	}
	return nil
}

func (w *walker) block(i int) error {
	if w.depth++; w.depth > maxWalkDepth {
		return errTooDeep
	}
	defer func() { w.depth-- }()
	ms, err := members(w.b, i)
	if err != nil {
		return err
	}
	switch blockType(w.b, ms) {
	case "text":
		return w.eachMember(ms, "text", w.maskString)
	case "tool_use", "server_tool_use":
		return w.eachMember(ms, "input", w.allStrings)
	case "tool_result":
		return w.eachMember(ms, "content", w.textOrBlocks)
	}
	return nil // thinking, redacted_thinking, image, document, unknown: untouched
}

func blockType(b []byte, ms []member) string {
	for _, m := range ms {
		if m.key == "type" && b[m.vs] == '"' {
			t, _ := decodeString(b[m.vs:m.ve])
			return t
		}
	}
	return ""
}

func (w *walker) eachMember(ms []member, key string, f func(int) error) error {
	for _, m := range ms {
		if m.key == key {
			if err := f(m.vs); err != nil {
				return err
			}
		}
	}
	return nil
}

// allStrings masks every string value (not keys) inside a tool input.
func (w *walker) allStrings(i int) error {
	if w.depth++; w.depth > maxWalkDepth {
		return errTooDeep
	}
	defer func() { w.depth-- }()
	switch w.b[i] {
	case '"':
		return w.maskString(i)
	case '{':
		ms, err := members(w.b, i)
		for _, m := range ms {
			if err := w.allStrings(m.vs); err != nil {
				return err
			}
		}
		return err
	case '[':
		els, err := elements(w.b, i)
		for _, el := range els {
			if err := w.allStrings(el[0]); err != nil {
				return err
			}
		}
		return err
	}
	return nil
}

func (w *walker) maskString(i int) error {
	end, err := stringEnd(w.b, i)
	if err != nil {
		return err
	}
	if w.fast && w.ec.e.scanRaw(w.b[i:end], w.active) == rawClean {
		return nil // no keyword and no disguising escape: nothing to mask
	}
	s, err := decodeString(w.b[i:end])
	if err != nil {
		return err
	}
	out, res := w.ec.textActive(s, w.sel, w.active, w.bud, w.scope)
	if w.bud.exceeded() {
		return w.bud.err(len(w.b))
	}
	w.res.Add(res)
	if res.Counts != nil {
		w.edits = append(w.edits, edit{i, end, encodeString(out)})
	}
	return nil
}

func (w *walker) apply() []byte {
	if len(w.edits) == 0 {
		return w.b
	}
	sort.Slice(w.edits, func(a, b int) bool { return w.edits[a].start < w.edits[b].start })
	var out bytes.Buffer
	prev := 0
	for _, e := range w.edits {
		out.Write(w.b[prev:e.start])
		out.Write(e.repl)
		prev = e.end
	}
	out.Write(w.b[prev:])
	return out.Bytes()
}

func decodeString(raw []byte) (string, error) {
	if len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil // no escapes: the common case
	}
	if s, ok := decodeSimpleEscapes(raw); ok {
		return s, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errJSON
	}
	return s, nil
}

// decodeSimpleEscapes decodes a valid-UTF-8 string whose escapes are all
// single-character ones (\n, \", ...), the usual shape of code and prose;
// \u escapes and invalid UTF-8 (which encoding/json replaces) go to
// encoding/json, which stays the reference.
func decodeSimpleEscapes(raw []byte) (string, bool) {
	if len(raw) < 2 || !utf8.Valid(raw) {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	out := make([]byte, 0, len(body))
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c < 0x20 || c == '"' {
			return "", false // invalid in a JSON string: let encoding/json judge
		}
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i++; i >= len(body) {
			return "", false
		}
		d, ok := simpleEscape(body[i])
		if !ok {
			return "", false
		}
		out = append(out, d)
	}
	return string(out), true
}

func simpleEscape(c byte) (byte, bool) {
	switch c {
	case '"', '\\', '/':
		return c, true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	}
	return 0, false
}

func encodeString(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
