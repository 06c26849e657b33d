package mask

import (
	"bytes"

	"github.com/tidwall/gjson"
)

// Nearly every event of a streamed answer is a text or tool-input delta in
// the one shape the API writes. parseDelta reads that shape byte by byte,
// which costs a fraction of validating and walking the data with gjson;
// anything else, and any doubt (an odd index, a field more or in another
// order, a malformed escape), is left to parseData's gjson path.
// Whatever it accepts is valid JSON that gjson reads the same way
// (TestParseDeltaAgreesWithGjson, FuzzParseDelta).

var (
	deltaHead = []byte(`{"type":"content_block_delta","index":`)
	deltaMid  = []byte(`,"delta":{"type":"`)
	deltaTail = []byte(`"}}`)
)

// deltaShapes are the delta types parseDelta reads, with the bytes between
// the type and the text.
var deltaShapes = [...]struct {
	typ  string
	next []byte
}{
	{"text_delta", []byte(`text_delta","text":"`)},
	{"input_json_delta", []byte(`input_json_delta","partial_json":"`)},
}

// maxDeltaIndexDigits keeps the index far from any integer overflow.
const maxDeltaIndexDigits = 6

func parseDelta(data []byte) (sseData, bool) {
	rest, ok := bytes.CutPrefix(data, deltaHead)
	if !ok {
		return sseData{}, false
	}
	index, rest, ok := cutIndex(rest)
	if !ok {
		return sseData{}, false
	}
	if rest, ok = bytes.CutPrefix(rest, deltaMid); !ok {
		return sseData{}, false
	}
	for _, shape := range deltaShapes {
		if bytes.HasPrefix(rest, shape.next) {
			at := len(data) - len(rest) + len(shape.next) - 1 // the opening quote
			return deltaText(shape.typ, index, data, at)
		}
	}
	return sseData{}, false
}

// cutIndex reads a JSON non-negative integer without leading zeros.
func cutIndex(b []byte) (int, []byte, bool) {
	n, i := 0, 0
	for ; i < len(b) && i <= maxDeltaIndexDigits && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int(b[i]-'0')
	}
	if i == 0 || i > maxDeltaIndexDigits || (b[0] == '0' && i > 1) {
		return 0, nil, false
	}
	return n, b[i:], true
}

// deltaText reads the string that opens at data[at], which must run to
// the data's closing `"}}`. A text with escapes is unescaped by gjson itself.
func deltaText(typ string, index int, data []byte, at int) (sseData, bool) {
	body, ok := bytes.CutSuffix(data[at+1:], deltaTail)
	if !ok {
		return sseData{}, false
	}
	escaped, ok := stringContents(body)
	if !ok {
		return sseData{}, false
	}
	span := textSpan{at, at + len(body) + 2}
	var text string
	if escaped {
		text = gjson.ParseBytes(data[span.lo:span.hi]).String()
	} else {
		text = string(body)
	}
	return sseData{Type: "content_block_delta", Index: &index, DeltaType: typ, Text: &text, At: span}, true
}

// stringContents checks b is a JSON string's contents (what gjson
// validates: no control character, no bare quote, escapes well formed) and
// says whether it holds an escape.
func stringContents(b []byte) (escaped, ok bool) {
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c < ' ' || c == '"':
			return false, false
		case c == '\\':
			n := escapeLen(b[i+1:])
			if n == 0 {
				return false, false
			}
			escaped, i = true, i+n
		}
	}
	return escaped, true
}

// escapeLen is the length of the escape that b starts with after its
// backslash, or 0 if there is none.
func escapeLen(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	switch b[0] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 1
	case 'u':
		if len(b) < 5 {
			return 0
		}
		for _, h := range b[1:5] {
			if !isHex(h) {
				return 0
			}
		}
		return 5
	}
	return 0
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
