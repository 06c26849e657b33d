package mask

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

const requestWithEverything = `{
  "model": "claude-x",   "max_tokens": 1024,
  "system": [{"type": "text", "text": "ops key AKIAIOSFODNN7EXAMPLE"}],
  "messages": [
    {"role": "user", "content": "my key is sk-ant-api03-FAKE-demo-key-not-real,日本語 <ok> & done"},
    {"role": "assistant", "content": [
      {"type": "thinking", "thinking": "the user pasted AKIAIOSFODNN7EXAMPLE", "signature": "sig-AKIAIOSFODNN7EXAMPLE"},
      {"type": "redacted_thinking", "data": "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000"},
      {"text": "I will not use ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000", "type": "text"},
      {"type": "tool_use", "id": "toolu_1", "name": "bash", "input": {"cmd": "export DB_PASSWORD=hunter2", "n": 3, "env": ["glpat-FAKEfakeFAKEfake1234", {"k": "xoxb-0000000000-FAKEfakeFAKEfake"}], "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000": true}}
    ]},
    {"role": "user", "content": [
      {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "AIzaSyFAKE9xQ2mT7vB4nL8kR1wZ6pJ3hC5dE0g"}]},
      {"type": "tool_result", "tool_use_id": "toolu_2", "content": "sk_live_FAKEfakeFAKEfake0000"},
      {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AKIAIOSFODNN7EXAMPLE"}},
      {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "AKIAIOSFODNN7EXAMPLE"}}
    ]}
  ],
  "metadata": {"user_id": "AKIAIOSFODNN7EXAMPLE"}
}`

func TestRequestMasksContentOnly(t *testing.T) {
	m := newTestMasker(t, Config{})
	out, res, err := m.Request([]byte(requestWithEverything), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out) {
		t.Fatalf("invalid JSON out: %s", out)
	}
	mustContainNone(t, out, "sk-ant-api03-FAKE", "hunter2", "glpat-FAKE", "xoxb-0000", "AIzaFAKE", "sk_live_FAKE")
	for _, keep := range []string{
		`"thinking": "the user pasted AKIAIOSFODNN7EXAMPLE", "signature": "sig-AKIAIOSFODNN7EXAMPLE"`,
		`"data": "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000"`, // redacted_thinking
		`"ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000": true`,   // a key, not a value
		`"media_type": "image/png", "data": "AKIAIOSFODNN7EXAMPLE"`,
		`"media_type": "text/plain", "data": "AKIAIOSFODNN7EXAMPLE"`,
		`"metadata": {"user_id": "AKIAIOSFODNN7EXAMPLE"}`,
		`"model": "claude-x",   "max_tokens": 1024,`,
		`日本語 <ok> & done"`,
	} {
		if !bytes.Contains(out, []byte(keep)) {
			t.Errorf("output lost %q:\n%s", keep, out)
		}
	}
	want := map[string]int{"aws_access_key_id": 1, "anthropic_api_key": 1, "github_token": 1, "password_assignment": 1,
		"gitlab_token": 1, "slack_token": 1, "google_api_key": 1, "stripe_key": 1}
	for k, v := range want {
		if res.Counts[k] != v {
			t.Errorf("count %s = %d, want %d (all %v)", k, res.Counts[k], v, res.Counts)
		}
	}
}

// TestRequestDeterministicAndIdempotent: the same body masks to the same
// bytes every time, and a body already masked (a resent conversation)
// comes back as the very same slice.
func TestRequestDeterministicAndIdempotent(t *testing.T) {
	m := newTestMasker(t, Config{})
	first, _, _ := m.Request([]byte(requestWithEverything), nil)
	second, _, _ := m.Request([]byte(requestWithEverything), nil)
	if !bytes.Equal(first, second) {
		t.Fatal("same request masked differently")
	}
	again, res, err := m.Request(first, nil)
	if err != nil || &again[0] != &first[0] || res.Counts != nil {
		t.Fatalf("masked body changed on a second pass: err %v counts %v", err, res.Counts)
	}
	other := newTestMasker(t, Config{})
	third, _, _ := other.Request([]byte(requestWithEverything), nil)
	if !bytes.Equal(first, third) {
		t.Fatal("two maskers with the same key disagree")
	}
}

func TestRequestUnchangedReturnsSameSlice(t *testing.T) {
	m := newTestMasker(t, Config{})
	body := []byte(`{"messages":[{"role":"user","content":"hello there"}],"system":"be nice"}`)
	out, res, err := m.Request(body, nil)
	if err != nil || &out[0] != &body[0] || len(res.Counts) != 0 {
		t.Fatalf("out %q res %v err %v", out, res, err)
	}
}

func TestRequestNonJSONIsScannedAsText(t *testing.T) {
	m := newTestMasker(t, Config{})
	out, res, err := m.Request([]byte("key=AKIAIOSFODNN7EXAMPLE {not json"), nil)
	if err != nil || strings.Contains(string(out), "AKIAIOSFODNN7EXAMPLE") || res.Counts["aws_access_key_id"] != 1 {
		t.Fatalf("out %q res %v err %v", out, res, err)
	}
}

func TestResponseMasksContent(t *testing.T) {
	m := newTestMasker(t, Config{})
	body := `{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"thinking","thinking":"AKIAIOSFODNN7EXAMPLE","signature":"s"},{"type":"text","text":"here: AKIAIOSFODNN7EXAMPLE"},{"type":"tool_use","id":"t","name":"n","input":{"q":"my-managed-FAKE-value"}}],"usage":{"input_tokens":1}}`
	out, res, err := m.Response([]byte(body), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts["aws_access_key_id"] != 1 || res.Counts[ManagedCredential] != 1 {
		t.Errorf("counts %v", res.Counts)
	}
	if !strings.Contains(string(out), `"thinking":"AKIAIOSFODNN7EXAMPLE"`) || strings.Contains(string(out), "my-managed-FAKE-value") {
		t.Errorf("out %s", out)
	}
}

func TestSelectionAndConfig(t *testing.T) {
	m, err := New(Config{Key: testKey, Disable: []string{"jwt"},
		Custom:   []Custom{{Name: "ticket_id", Pattern: `TCK-[0-9]{6}`, Keywords: []string{"TCK-"}, Confidence: "low"}},
		Literals: []Literal{{Name: "project_codename", Values: []string{"Bluebird"}}}})
	if err != nil {
		t.Fatal(err)
	}
	m.SetManaged([]string{"my-managed-FAKE-value"})
	in := "TCK-123456 Bluebird bluebird eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlIn0.FAKEsignatureFAKE AKIAIOSFODNN7EXAMPLE my-managed-FAKE-value"
	_, res := m.Text(in, nil)
	want := map[string]int{"ticket_id": 1, "project_codename": 1, "aws_access_key_id": 1, ManagedCredential: 1}
	if len(res.Counts) != len(want) {
		t.Errorf("counts %v, want %v", res.Counts, want)
	}
	for k, v := range want {
		if res.Counts[k] != v {
			t.Errorf("count %s = %d, want %d", k, res.Counts[k], v)
		}
	}
	_, res = m.Text(in, Selection{"ticket_id"})
	if len(res.Counts) != 2 || res.Counts["ticket_id"] != 1 || res.Counts[ManagedCredential] != 1 {
		t.Errorf("selected counts %v", res.Counts)
	}
	names := map[string]bool{}
	for _, d := range m.Detectors() {
		names[d.Name] = true
	}
	if names["jwt"] || names["email"] || !names["ticket_id"] || !names[ManagedCredential] || names[placeholderName] {
		t.Errorf("detectors %v", names)
	}
	for _, bad := range []Config{{Custom: []Custom{{Name: "x", Pattern: "("}}}, {Custom: []Custom{{Name: "Bad Name", Pattern: "x"}}}, {Literals: []Literal{{Values: []string{"v"}}}}} {
		if _, err := New(bad); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

func TestSetManagedReplacesValues(t *testing.T) {
	m := newTestMasker(t, Config{})
	long := strings.Repeat("padding ", 64) + "my-managed-FAKE-value" // long enough to be cached
	if _, res := m.Text(long, nil); res.Counts[ManagedCredential] != 1 {
		t.Fatal("managed value not masked")
	}
	m.SetManaged([]string{"another-FAKE-value"})
	if out, _ := m.Text(long, nil); out != long {
		t.Errorf("old managed value still masked (stale cache?)")
	}
	if _, res := m.Text("x another-FAKE-value y", nil); res.Counts[ManagedCredential] != 1 {
		t.Errorf("new managed value not masked")
	}
}

func TestPlaceholderShape(t *testing.T) {
	m := newTestMasker(t, Config{})
	out, _ := m.Text("AKIAIOSFODNN7EXAMPLE", nil)
	other, _ := newTestMasker(t, Config{Key: []byte("other-key")}).Text("AKIAIOSFODNN7EXAMPLE", nil)
	if len(out) != len("[REDACTED:aws_access_key_id:123456]") || !strings.HasPrefix(out, "[REDACTED:aws_access_key_id:") || out == other {
		t.Errorf("placeholders %q %q", out, other)
	}
}

// TestCacheHitsResentMaskedTurn: a masked response resent by the client in
// the next request is served from the digest cache, and masks to itself.
func TestCacheHitsResentMaskedTurn(t *testing.T) {
	m := newTestMasker(t, Config{})
	text := strings.Repeat("a long turn of prose. ", 20) + "AKIAIOSFODNN7EXAMPLE " + strings.Repeat("more prose. ", 10)
	masked, res := m.Text(text, Selection{"aws_access_key_id"})
	if res.Counts == nil {
		t.Fatal("not masked")
	}
	ec := m.engine.Load()
	if !ec.cache.Contains(digest("", masked, Selection{"aws_access_key_id"})) {
		t.Fatal("the masked turn is not in the cache")
	}
	again, res2 := m.Text(masked, Selection{"aws_access_key_id"})
	uncached, res3 := ec.e.text(masked, ec.e.selection(Selection{"aws_access_key_id"}), nil)
	if again != masked || res2.Counts != nil || uncached != again || res3.Counts != nil {
		t.Fatalf("resent turn changed: %q %v / %q %v", again, res2.Counts, uncached, res3.Counts)
	}
}

// TestDecodeStringMatchesEncodingJSON: the hand-written decoder of simple
// escapes agrees with encoding/json on random strings, and stringEnd finds
// the same end as a full parse.
func TestDecodeStringMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	parts := []string{`\n`, `\"`, `\\`, `\/`, `\t`, `\r`, `\b`, `\f`, `\u00e9`, `\ud83d\ude42`, "é", "日本", "a", " ", "\xff", `\`, "\x01", `"`, "sk-"}
	for i := 0; i < 3000; i++ {
		var b strings.Builder
		b.WriteByte('"')
		for n := r.IntN(8); n > 0; n-- {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		b.WriteByte('"')
		raw := []byte(b.String())
		var want string
		wantErr := json.Unmarshal(raw, &want)
		got, gotErr := decodeString(raw)
		// Without a backslash the raw bytes are taken as they are (as before).
		if wantErr == nil && bytes.IndexByte(raw, '\\') >= 0 && (gotErr != nil || got != want) {
			t.Fatalf("decode %q: got %q %v, want %q", raw, got, gotErr, want)
		}
		if wantErr == nil {
			if end, err := stringEnd(raw, 0); err != nil || end != len(raw) {
				t.Fatalf("stringEnd %q = %d %v", raw, end, err)
			}
		}
	}
}
