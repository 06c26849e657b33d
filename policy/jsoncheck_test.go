package policy

import (
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckJSON(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	cases := []struct {
		body string
		want error
	}{
		{`{"model":"claude-haiku-4-5","max_tokens":1}`, nil},
		{`"just a string"`, nil},
		{" {\"a\":[1,2,{\"b\":null}]} \n", nil},
		{`{"a":{"x":1},"b":{"x":2}}`, nil}, // equal keys in different objects
		{deep(MaxJSONDepth), nil},
		{deep(MaxJSONDepth + 1), ErrJSONTooDeep},
		{`{"a":` + strings.Repeat("[", 100_000), ErrJSONTooDeep}, // refused before the end is ever read
		{`{"model":"claude-haiku-4-5","max_tokens":1,"model":"claude-opus-4-1"}`, ErrDuplicateKey},
		{`{"model":"a","mod\u0065l":"b"}`, ErrDuplicateKey},
		{`{"messages":[{"role":"user","content":[{"type":"text","text":"a","text":"b"}]}]}`, ErrDuplicateKey},
		{`{"a":1}{"a":2}`, ErrNotJSON},
		{`{"a":1} x`, ErrNotJSON},
		{`{"a":`, ErrNotJSON},
		{`{"a":1,}`, ErrNotJSON},
		{"{\"a\":\"\xff\"}", ErrNotJSON}, // invalid UTF-8: parsers disagree on what it means
		{`{"a":"\ud83d\ude00"}`, nil},    // a surrogate pair: one emoji
		{`{"a":"\\ud800"}`, nil},         // an escaped backslash, then text
		{`{"a":"\ud800"}`, ErrNotJSON},   // half a pair: the API refuses it too
		{`{"a":"\ud83dx"}`, ErrNotJSON},  // a high half without its low half
		{`{"\udc00":1}`, ErrNotJSON},     // a low half alone, in a key
		{``, ErrNotJSON},
		{`model=claude-opus-4-1&max_tokens=99999`, ErrNotJSON},
	}
	for _, c := range cases {
		if err := CheckJSON([]byte(c.body)); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("CheckJSON(%.60q) = %v, want %v", c.body, err, c.want)
		}
	}
}

// The regression of issue 11, item 3: ten million open brackets (10 MB,
// under the API's 32 MiB limit) overflowed the stack in gjson's validator
// and killed the daemon. ParseBody refuses it without recursing.
func TestParseBodyRefusesDeepNestingWithoutCrashing(t *testing.T) {
	body := []byte(`{"a":` + strings.Repeat("[", 10_000_000))
	var q Request
	if err := ParseBody(body, &q); !errors.Is(err, ErrJSONTooDeep) || q.BodyParsed {
		t.Fatalf("err %v, parsed %v", err, q.BodyParsed)
	}
}

func TestParseBodyRefusesDuplicateKeys(t *testing.T) {
	var q Request
	err := ParseBody([]byte(`{"model":"claude-haiku-4-5","max_tokens":1,"model":"claude-opus-4-1"}`), &q)
	if !errors.Is(err, ErrDuplicateKey) || q.BodyParsed {
		t.Fatalf("err %v, parsed %v", err, q.BodyParsed)
	}
}

// FuzzCheckJSON holds CheckJSON to an oracle built on encoding/json, a
// different decoder: accepted exactly when the input is one valid UTF-8
// JSON value, at most MaxJSONDepth deep, without a repeated key in any
// object; and on a valid document, refused for the oracle's reason.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":1,"a":2}`, `[[[]]]`, `{"a":{"b":[1,{"c":"\u0041"}]}}`,
		`{"\u0061":1,"a":2}`, `"x"`, `1e9`, `{"a":[}`, strings.Repeat("[", 600)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := CheckJSON(b), oracle(b)
		if (got == nil) != (want == nil) || (want != ErrNotJSON && !errors.Is(got, want)) {
			t.Fatalf("CheckJSON(%q) = %v, oracle %v", b, got, want)
		}
	})
}

// oracle classifies b; ErrNotJSON covers any invalid input, where which
// refusal comes first depends on where each decoder stops.
func oracle(b []byte) error {
	switch {
	case !json.Valid(b) || !utf8.Valid(b) || hasLoneSurrogate(b):
		return ErrNotJSON
	case depthOf(b) > MaxJSONDepth:
		return ErrJSONTooDeep
	case hasDuplicateKey(b):
		return ErrDuplicateKey
	}
	return nil
}

// depthOf is the deepest nesting of a valid document.
func depthOf(b []byte) int {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return deepest
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			deepest = max(deepest, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

// hasLoneSurrogate reports a \u escape of half a UTF-16 pair without its
// other half, in a valid document. encoding/json reads one as U+FFFD; the
// API refuses the body ("no low surrogate in string"), and so does CheckJSON.
func hasLoneSurrogate(b []byte) bool {
	half := func(i int) (high, low bool) { // the escape at b[i:i+6], if any
		if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
			return false, false
		}
		r, _ := strconv.ParseUint(string(b[i+2:i+6]), 16, 32)
		return r >= 0xD800 && r < 0xDC00, r >= 0xDC00 && r < 0xE000
	}
	in := false
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '"':
			in = !in
		case in && b[i] == '\\':
			high, low := half(i)
			if high {
				if _, next := half(i + 6); !next {
					return true
				}
				i += 6 // the pair's low half
			} else if low {
				return true
			}
			i++ // the escaped byte (the rest of a \u escape is hex digits)
		}
	}
	return false
}

func hasDuplicateKey(b []byte) bool {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	type level struct {
		keys   map[string]bool
		expect bool // the next string token is a key
	}
	var stack []*level
	for {
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			return false
		}
		top := (*level)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if s, ok := tok.(string); ok && top != nil && top.keys != nil && top.expect {
			if top.keys[s] {
				return true
			}
			top.keys[s], top.expect = true, false
			continue
		}
		if top != nil && top.keys != nil {
			top.expect = true // a value was read (or begins: its end resets below)
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &level{keys: map[string]bool{}, expect: true})
		case json.Delim('['):
			stack = append(stack, &level{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].keys != nil {
				stack[len(stack)-1].expect = true
			}
		}
	}
}
