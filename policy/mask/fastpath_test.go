package mask

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestFastPathEscapedSecretsStillMasked: a keyword disguised by a JSON
// escape is invisible to the raw prefilter; the body must still be masked.
func TestFastPathEscapedSecretsStillMasked(t *testing.T) {
	m := newTestMasker(t, Config{})
	cases := map[string]struct{ raw, secret string }{
		"unicode first byte":     {`\u0073k-ant-api03-FAKE-demo-key-not-real`, "FAKE-demo-key-not-real"},
		"unicode upper case":     {`\u0041KIAIOSFODNN7EXAMPLE`, "IOSFODNN7EXAMPLE"},
		"unicode mid keyword":    {`sk-\u0061nt-api03-FAKE-demo-key-not-real`, "FAKE-demo-key-not-real"},
		"escaped slashes":        {`https:\/\/hooks.slack.com\/services\/T0000FAKE\/B0000FAKE\/FAKEfakeFAKEfake0000`, "FAKEfakeFAKEfake0000"},
		"managed credential":     {`my-m\u0061naged-FAKE-value`, "naged-FAKE-value"},
		"escaped newline in PEM": {`-----BEGIN RSA PRIVATE KEY-----\nMIIEFAKEfakeFAKEfakeFAKEfakeFAKEfake\n-----END RSA PRIVATE KEY-----`, "MIIEFAKEfake"},
	}
	for name, c := range cases {
		for _, body := range []string{
			`{"max_tokens":10,"messages":[{"role":"user","content":"see ` + c.raw + ` now"}]}`,
			`{"messages":[{"role":"user","content":[{"type":"text","text":"` + c.raw + `"}]}]}`,
		} {
			out, res, err := m.Request([]byte(body), nil)
			if err != nil || res.Counts == nil || bytes.Contains(decodedContent(t, out), []byte(c.secret)) {
				t.Errorf("%s: not masked (err %v, counts %v): %s", name, err, res.Counts, out)
			}
		}
		resp := `{"type":"message","content":[{"type":"text","text":"` + c.raw + `"}]}`
		if out, res, _ := m.Response([]byte(resp), nil); res.Counts == nil {
			t.Errorf("%s: response not masked: %s", name, out)
		}
	}
}

// decodedContent returns the body with its JSON strings decoded, so a
// test sees what the model would see.
func decodedContent(t *testing.T, body []byte) []byte {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("invalid JSON: %s", body)
	}
	out, _ := json.Marshal(v)
	return bytes.ReplaceAll(out, []byte(`\u0026`), []byte("&"))
}

// TestFastPathCleanBodyUntouched: a clean body (keywords only in object
// keys, escapes that cannot form a keyword) comes back as the same slice.
func TestFastPathCleanBodyUntouched(t *testing.T) {
	m := newTestMasker(t, Config{})
	body := []byte(`{"model":"claude-x","max_tokens":1024,"messages":[{"role":"user","content":"line one\nline \"two\" \\ tab\t caf\u00e9 [REDACTED:jwt:abcdef]"}]}`)
	for _, f := range []func([]byte, Selection) ([]byte, Result, error){m.Request, m.Response} {
		out, res, err := f(body, nil)
		if err != nil || res.Counts != nil || &out[0] != &body[0] {
			t.Fatalf("clean body changed: %v %v %s", err, res.Counts, out)
		}
	}
}

// TestFastPathKeyHitNeedsValidJSON: a secret in what looks like a key of
// a body that is not JSON is still masked (such a body is scanned as text).
func TestFastPathKeyHitNeedsValidJSON(t *testing.T) {
	m := newTestMasker(t, Config{})
	out, res, _ := m.Request([]byte(`{"sk-ant-api03-FAKE-demo-key-not-real": 1`), nil)
	if res.Counts == nil {
		t.Fatalf("not masked: %s", out)
	}
	valid := []byte(`{"sk-ant-api03-FAKE-demo-key-not-real": 1}`)
	if out, res, _ := m.Request(valid, nil); res.Counts != nil || &out[0] != &valid[0] {
		t.Fatalf("a key was masked: %s", out)
	}
}

// TestFastPathAgreesWithFullPath: on random bodies with secrets, keyword
// fragments and random escapes, the fast path gives exactly what the full
// walk gives, for several selections.
func TestFastPathAgreesWithFullPath(t *testing.T) {
	m := newTestMasker(t, Config{})
	r := rand.New(rand.NewPCG(11, 12))
	sels := []Selection{nil, {"aws_access_key_id"}, {"slack_webhook_url", "github_token"}}
	for i := 0; i < 1500; i++ {
		body := randomEscapedBody(r)
		sel := sels[i%len(sels)]
		for _, top := range []func(*walker, []member) error{(*walker).request, (*walker).response} {
			got, gotRes, gotErr := m.For("").walk(body, sel, top, -1)
			want, wantRes, wantErr := fullWalk(m, body, sel, top)
			if !bytes.Equal(got, want) || (gotErr == nil) != (wantErr == nil) || countSum(gotRes.Counts) != countSum(wantRes.Counts) {
				t.Fatalf("fast path differs on %s (sel %v):\n got %s\nwant %s", body, sel, got, want)
			}
		}
	}
}

func fullWalk(m *Masker, body []byte, sel Selection, top func(*walker, []member) error) ([]byte, Result, error) {
	ec := m.engine.Load()
	return ec.walkBody(body, &walker{ec: ec, sel: sel, active: ec.e.selection(sel), b: body}, top)
}

var escapeSamples = []string{`\u0073`, `\u0041`, `\u0061`, `\/`, `\n`, `\"`, `\\`, `\t`, `\u00e9`, `\u006B`, `\u002d`}

// randomEscapedBody is a request/response-shaped body whose strings mix
// fake secrets (some with a character replaced by an escape) and fillers.
func randomEscapedBody(r *rand.Rand) []byte {
	text := func() string {
		var b strings.Builder
		for n := r.IntN(6); n >= 0; n-- {
			s := fakeSecrets[r.IntN(len(fakeSecrets))]
			if r.IntN(3) > 0 {
				s = fillers[r.IntN(len(fillers))]
			}
			enc, _ := json.Marshal(s)
			raw := string(enc[1 : len(enc)-1])
			if r.IntN(2) == 0 && len(raw) > 0 {
				j := r.IntN(len(raw))
				if raw[j] != '\\' && raw[j] < 0x80 && (j == 0 || raw[j-1] != '\\') {
					raw = raw[:j] + jsonEscapeOf(raw[j], r) + raw[j+1:]
				}
			}
			if r.IntN(4) == 0 {
				raw += escapeSamples[r.IntN(len(escapeSamples))]
			}
			b.WriteString(raw)
		}
		return b.String()
	}
	key := []string{"max_tokens", "content", "token", "text", "sk-ant-api03-FAKE-demo-key-not-real"}[r.IntN(5)]
	body := `{"` + key + `":1,"messages":[{"role":"user","content":"` + text() + `"},{"role":"assistant","content":[{"type":"text","text":"` + text() +
		`"},{"type":"tool_use","input":{"` + text() + `":"` + text() + `"}}]}],"content":[{"type":"text","text":"` + text() + `"}]}`
	if r.IntN(10) == 0 {
		body = body[:r.IntN(len(body))] // not JSON: scanned as text
	}
	return []byte(body)
}

// jsonEscapeOf writes c as a \u escape or, for '/', maybe as \/.
func jsonEscapeOf(c byte, r *rand.Rand) string {
	if c == '/' && r.IntN(2) == 0 {
		return `\/`
	}
	const hexdigits = "0123456789abcdef"
	return `\u00` + string(hexdigits[c>>4]) + string(hexdigits[c&15])
}

// FuzzFastPathAgreesWithFullPath: for any body, the fast path and the full
// walk give the same bytes and counts (no keywordless detector selected).
func FuzzFastPathAgreesWithFullPath(f *testing.F) {
	f.Add([]byte(requestWithEverything))
	f.Add([]byte(`{"max_tokens":1,"messages":[{"role":"user","content":"\u0073k-ant-api03-FAKE-demo-key-not-real"}]}`))
	f.Add([]byte(`{"content":[{"type":"text","text":"https:\/\/hooks.slack.com\/services\/T0000FAKE\/B0000FAKE\/FAKEfakeFAKEfake0000"}]}`))
	f.Add([]byte(`{"sk-ant-api03-FAKE-demo-key-not-real": "x"`))
	f.Add([]byte(`{"messages":[{"content":"\"password\": \"correcthorsebattery\" [REDACTED:jwt:abcdef]"}]}`))
	m := newTestMasker(f, Config{})
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, top := range []func(*walker, []member) error{(*walker).request, (*walker).response} {
			got, gotRes, gotErr := m.For("").walk(body, nil, top, -1)
			want, wantRes, wantErr := fullWalk(m, body, nil, top)
			if !bytes.Equal(got, want) || (gotErr == nil) != (wantErr == nil) || countSum(gotRes.Counts) != countSum(wantRes.Counts) {
				t.Fatalf("fast path differs on %q:\n got %q\nwant %q", body, got, want)
			}
		}
	})
}

// TestTextFastPathAgrees: Text with its keyword pre-check gives what the
// scanner gives, on random texts and selections.
func TestTextFastPathAgrees(t *testing.T) {
	m := newTestMasker(t, Config{CacheEntries: -1})
	ec := m.engine.Load()
	r := rand.New(rand.NewPCG(31, 32))
	sels := []Selection{nil, {"aws_access_key_id"}, {"jwt", "github_token"}}
	for i := 0; i < 2000; i++ {
		s := randomText(r, r.IntN(200))
		sel := sels[i%len(sels)]
		got, gotRes := m.Text(s, sel)
		want, wantRes := ec.e.text(s, ec.e.selection(sel), nil)
		if got != want || countSum(gotRes.Counts) != countSum(wantRes.Counts) {
			t.Fatalf("Text(%q, %v) = %q, scanner says %q", s, sel, got, want)
		}
	}
	if out, res := m.Text("curl -s https://example.com --json", nil); out != "curl -s https://example.com --json" || res.Counts != nil {
		t.Fatalf("clean argument changed: %q %v", out, res.Counts)
	}
}
