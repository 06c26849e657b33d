package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// MaxJSONDepth bounds the nesting of objects and arrays in a request body.
// API bodies nest a few dozen levels at most; the recursive parsers that
// read them later (gjson, the masker's walk) spend a stack frame per level,
// and ten million levels once overflowed the stack and killed the daemon.
const MaxJSONDepth = 512

// Errors of CheckJSON. A body that is too deep or repeats a key is refused
// outright; one that is not JSON is refused where policy or masking needs it.
var (
	ErrJSONTooDeep  = fmt.Errorf("JSON nesting is deeper than %d levels", MaxJSONDepth)
	ErrDuplicateKey = errors.New("a JSON object repeats a key")
	ErrNotJSON      = errors.New("not a single valid JSON value")
)

// CheckJSON reads body once, token by token and without recursion, and
// reports whether it is one JSON value, nested at most MaxJSONDepth deep,
// with no key repeated in any object. Keys are compared after unescaping
// ("model" and "mod\u0065l" are one key): policy reads the first of two
// equal keys while many parsers upstream keep the last, so a repeated key
// would let a request be decided on one value and served with another.
func CheckJSON(body []byte) error {
	dec := jsontext.NewDecoder(bytes.NewBuffer(body)) // reads body in place
	for {
		if _, err := dec.ReadToken(); err != nil {
			return jsonError(err)
		}
		depth := dec.StackDepth()
		if depth > MaxJSONDepth {
			return ErrJSONTooDeep
		}
		if depth == 0 {
			break
		}
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return fmt.Errorf("%w: data after the value", ErrNotJSON)
	}
	return nil
}

// jsonError names the problem and where, without the decoder's message,
// which quotes the body (keys in its JSON pointer) into logs and the audit.
func jsonError(err error) error {
	var se *jsontext.SyntacticError
	switch {
	case errors.Is(err, jsontext.ErrDuplicateName):
		return ErrDuplicateKey
	case errors.As(err, &se):
		return fmt.Errorf("%w (at byte %d)", ErrNotJSON, se.ByteOffset)
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%w (it ends early)", ErrNotJSON)
	}
	return ErrNotJSON
}
