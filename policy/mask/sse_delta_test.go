package mask

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// deltaCases are shapes near the one parseDelta reads: each either takes
// the shortcut or not, and the test only asks that a shortcut agrees.
func deltaCases(r *rand.Rand) []string {
	texts := []string{"", "hello", "a b\tc", `quote"`, `back\\slash`, `esc\n`, "\x01", "ü ß 😀", "\xff\xfe", "}}", `"}}`, `\u0041`, "sk-ant-api03-FAKE",
		`line\none`, `say \"hi\"`, `\u00e9t\u00E9`, `\ud83d\ude00`, `\ud83d`, `\ude00x`, `\uZZZZ`, `\u12`, `\x`, `tail\`,
		`\\\"`, `a\/b\b\f\r\t`, `\u0000`, `{\"command\": \"rm -rf /tmp/x\"}`}
	for range 40 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		texts = append(texts, string(b))
	}
	indexes := []string{"0", "1", "7", "42", "999999", "1000000", "01", "00", "-1", "1.0", "1e2", " 1", ""}
	shapes := []string{
		`{"type":"content_block_delta","index":%s,"delta":{"type":"text_delta","text":"%s"}}`,
		`{"type":"content_block_delta","index":%s,"delta":{"type":"input_json_delta","partial_json":"%s"}}`,
		`{"type":"content_block_delta","index":%s,"delta":{"type":"thinking_delta","thinking":"%s"}}`,
		`{"type":"content_block_delta","index":%s,"delta":{"type":"text_delta","text":"%s"}} `,
		`{"type":"content_block_delta","index":%s,"delta":{"type":"text_delta","text":"%s","x":1}}`,
		`{"type":"content_block_delta","index":%s,"delta":{"type":"text_delta","text":"%s"}}}`,
		`{"type":"content_block_delta","index":%s,"delta":{"type":"text_delta","text":"%s"}`,
	}
	var out []string
	for _, sh := range shapes {
		for _, ix := range indexes {
			for _, tx := range texts {
				out = append(out, fmt.Sprintf(sh, ix, tx))
			}
		}
	}
	return out
}

func TestParseDeltaAgreesWithGjson(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 26))
	took := 0
	for _, c := range deltaCases(r) {
		if checkParseDelta(t, []byte(c)) {
			took++
		}
	}
	if took < 100 {
		t.Fatalf("the shortcut took only %d cases: the test no longer exercises it", took)
	}
	// The shape the API streams takes the shortcut.
	d, ok := parseDelta([]byte(`{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"Hi there"}}`))
	if !ok || *d.Index != 3 || *d.Text != "Hi there" || d.DeltaType != "text_delta" {
		t.Fatalf("parseDelta of the API's shape = %+v, %v", d, ok)
	}
}

// checkParseDelta fails t if parseDelta accepts data and reads it unlike
// the gjson path; it reports whether the shortcut was taken.
func checkParseDelta(t *testing.T, data []byte) bool {
	t.Helper()
	fast, ok := parseDelta(data)
	if !ok {
		return false
	}
	slow, valid := parseDataGJSON(data)
	at := fast.At
	fast.At = textSpan{} // gjson's path leaves the span to setString
	if !valid || !reflect.DeepEqual(fast, slow) {
		t.Fatalf("parseDelta(%q) = %s; gjson (valid %v) = %s", data, show(fast), valid, show(slow))
	}
	// The span is where gjson finds the text's JSON string.
	r := gjson.GetBytes(data, deltaTextPath(fast.DeltaType))
	if at.lo != r.Index || at.hi != r.Index+len(r.Raw) {
		t.Fatalf("parseDelta(%q) puts the text at %v; gjson at [%d, %d)", data, at, r.Index, r.Index+len(r.Raw))
	}
	return true
}

func show(d sseData) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{%s %s", d.Type, d.DeltaType)
	if d.Index != nil {
		fmt.Fprintf(&b, " index=%d", *d.Index)
	}
	if d.Text != nil {
		fmt.Fprintf(&b, " text=%q", *d.Text)
	}
	return b.String() + "}"
}

func FuzzParseDelta(f *testing.F) {
	for _, c := range deltaCases(rand.New(rand.NewPCG(1, 2)))[:200] {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkParseDelta(t, data) })
}
