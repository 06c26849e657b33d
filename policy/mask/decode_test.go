package mask

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

const fakeJWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlIn0.FAKEsignatureFAKE"

// encodedSecrets are secrets hidden in an encoding, each with the encoded
// run that must be masked whole and the detector that masks it.
func encodedSecrets() []struct{ text, run, det string } {
	env := "HOST=db\nDB_PASSWORD=hunter2!x9q\n"
	return []struct{ text, run, det string }{
		{"", base64.StdEncoding.EncodeToString([]byte(fakeJWT)), "base64_secret"},
		{"", base64.RawURLEncoding.EncodeToString([]byte("Authorization: Bearer " + fakeJWT)), "base64_secret"},
		{"", base64.StdEncoding.EncodeToString([]byte(env)), "base64_secret"},
		{"", base64.StdEncoding.EncodeToString([]byte(`{"api_key": "n0t-a-r3al-k3y-0000"}`)), "base64_secret"},
		{"GET /cb?code=abc&key=", "sk-ant-api03-FAKE%2Ddemo%2Dkey%2Dnot%2Dreal", "url_encoded_secret"},
		{"grant_type=refresh&gh=", "ghp%5FFAKEfakeFAKEfakeFAKEfakeFAKEfake0000", "url_encoded_secret"},
	}
}

// TestEncodedSecretsMaskedWhole: a base64 run that decodes to a JWT or a
// key=value secret, and a percent-encoded query or form value that decodes
// to a secret, are replaced whole (no byte of the run is left), in Text
// and inside a Messages body.
func TestEncodedSecretsMaskedWhole(t *testing.T) {
	m := newTestMasker(t, Config{CacheEntries: -1})
	for _, c := range encodedSecrets() {
		text := "see " + c.text + c.run + " for details"
		out, res := m.Text(text, nil)
		if res.Counts[c.det] != 1 || strings.Contains(out, c.run[:8]) || strings.Contains(out, c.run[len(c.run)-6:]) {
			t.Errorf("%s: %q -> %q (%v)", c.det, text, out, res.Counts)
		}
		if want := "see " + c.text + "[REDACTED:" + c.det + ":"; !strings.HasPrefix(out, want) {
			t.Errorf("%s: %q, want the whole run replaced after %q", c.det, out, want)
		}
		body, _ := json.Marshal(map[string]any{"messages": []any{map[string]any{"role": "user", "content": text}}})
		masked, _, err := m.Request(body, nil)
		if err != nil || bytes.Contains(masked, []byte(c.run[:8])) {
			t.Errorf("%s in a request: %v %s", c.det, err, masked)
		}
	}
}

// TestEncodedNonSecretsKept: encoded text that holds no secret stays as it
// is: base64 of prose that names a password, of binary data, a URL whose
// escapes hide nothing, a reference value, an encoded redirect URL.
func TestEncodedNonSecretsKept(t *testing.T) {
	m := newTestMasker(t, Config{CacheEntries: -1})
	binary := make([]byte, 300)
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	mustStayClear(t, m,
		base64.StdEncoding.EncodeToString([]byte("the password policy says: at least twelve characters")),
		base64.StdEncoding.EncodeToString(append([]byte("password"), binary...)),
		"https://example.com/search?q=hello%20world%21&lang=en",
		"https://example.com/cb?access_token=ACCESS%5FTOKEN",
		"redirect_uri=https%3A%2F%2Fexample.com%2Fcallback&state=xyz",
		"curl 'https://api.example.com/v1/items?filter=name%3Dtoken&page=2'",
	)
}

// TestEncodedSecretsAtAnyStreamSplit: streamed in random pieces and
// chunks, the client receives exactly what Text gives for the whole text,
// and the encoded secrets are masked whole.
func TestEncodedSecretsAtAnyStreamSplit(t *testing.T) {
	m := newTestMasker(t, Config{})
	cases := encodedSecrets()
	for seed := uint64(1); seed <= 60; seed++ {
		r := rand.New(rand.NewPCG(seed, 11))
		c := cases[int(seed)%len(cases)]
		text := randomText(r, r.IntN(300)) + " " + c.text + c.run + "\n" + randomText(r, r.IntN(300))
		toolJSON, _ := json.Marshal(map[string]string{"command": "curl '" + c.text + c.run + "'"})
		stream := buildStream(r, "\n", randomRunePieces(r, text), randomRunePieces(r, string(toolJSON)))
		var out bytes.Buffer
		s := m.NewStream(&out, nil, StreamOptions{})
		feedChunks(t, r, s, []byte(stream))
		events := parseSSE(t, out.Bytes())
		want, _ := m.Text(text, nil)
		wantJSON, _ := m.Text(string(toolJSON), nil)
		if got := blockText(events, 0, "text"); got != want || strings.Contains(got, c.run[:8]) {
			t.Fatalf("seed %d: text block\n got %q\nwant %q", seed, got, want)
		}
		if got := blockText(events, 1, "partial_json"); got != wantJSON || strings.Contains(got, c.run[:8]) {
			t.Fatalf("seed %d: tool block\n got %q\nwant %q", seed, got, wantJSON)
		}
	}
}

// TestStableBase64: a trigger's spelling at each alignment is found in the
// encoding of any text holding the trigger at that alignment.
func TestStableBase64(t *testing.T) {
	for a := 0; a < 3; a++ {
		f := stableBase64("password", a)
		for _, pre := range []string{"", "x", "DB_", "HOST=db\nDB_", "0123456789"} {
			if len(pre)%3 != a {
				continue
			}
			enc := base64.StdEncoding.EncodeToString([]byte(pre + "password=x"))
			if !strings.Contains(enc, f) {
				t.Errorf("alignment %d: %q not in %q (prefix %q)", a, f, enc, pre)
			}
		}
	}
}

// TestDecoderStreamsEqualText: texts mixing encoded secrets, pieces of
// them, pair separators, escapes and words (the bytes where a decoder's
// hold and window decisions turn), split at random points, stream to
// exactly what Text gives for the whole text.
func TestDecoderStreamsEqualText(t *testing.T) {
	m := newTestMasker(t, Config{})
	var frags []string
	for _, c := range encodedSecrets() {
		frags = append(frags, c.text+c.run, c.run[:len(c.run)/2], c.run[len(c.run)/2:])
	}
	frags = append(frags, "=", "&", "?", "%2F", "%", "%4", " ", "\n", "Hello", "ZXlK", "aG9z", "token=", "a=b", "x", "==", "'", "-")
	for seed := uint64(1); seed <= 300; seed++ {
		r := rand.New(rand.NewPCG(seed, 13))
		var b strings.Builder
		for b.Len() < 50+r.IntN(600) {
			b.WriteString(frags[r.IntN(len(frags))])
		}
		text := b.String()
		stream := buildStream(r, "\n", randomRunePieces(r, text), nil)
		var out bytes.Buffer
		s := m.NewStream(&out, nil, StreamOptions{})
		feedChunks(t, r, s, []byte(stream))
		want, _ := m.Text(text, nil)
		if got := blockText(parseSSE(t, out.Bytes()), 0, "text"); got != want {
			t.Fatalf("seed %d: %q\n got %q\nwant %q", seed, text, got, want)
		}
	}
}
