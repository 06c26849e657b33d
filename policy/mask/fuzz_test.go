package mask

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// FuzzSSE: any bytes, any chunking: no panic, and the output does not
// depend on how the input was chunked.
func FuzzSSE(f *testing.F) {
	r := rand.New(rand.NewPCG(9, 9))
	f.Add([]byte(buildStream(r, "\n", []string{"key sk-ant-", "api03-FAKE-demo-key-not-real ok"}, []string{`{"a":"AKIAIOSF`, `ODNN7EXAMPLE"}`})), uint8(1))
	f.Add([]byte(buildStream(r, "\r\n", []string{"日本", "語 🙂 password=hunter2"}, nil)), uint8(3))
	f.Add([]byte("event: content_block_delta\ndata: {broken\n\ndata: x\ndata: y\n\n: c\n\nevent: e"), uint8(2))
	f.Add([]byte("data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"-----BEGIN PRIVATE KEY-----\"}}\n\n"), uint8(7))
	m := newTestMasker(f, Config{PII: true, MaxHold: 512})
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		whole := runStream(t, m, data, len(data)+1)
		split := runStream(t, m, data, int(chunk)%16+1)
		if !bytes.Equal(whole, split) {
			t.Fatalf("chunking changed the output:\n whole %q\n split %q", whole, split)
		}
	})
}

func runStream(t *testing.T, m *Masker, data []byte, chunk int) []byte {
	var out bytes.Buffer
	s := m.NewStream(&out, nil, StreamOptions{})
	for i := 0; i < len(data); i += chunk {
		s.Write(data[i:min(len(data), i+chunk)])
	}
	s.Close()
	return out.Bytes()
}

// FuzzRequestWalker: any body: no panic, JSON stays valid JSON, and the
// same body always masks to the same bytes.
func FuzzRequestWalker(f *testing.F) {
	f.Add([]byte(requestWithEverything))
	f.Add([]byte(`{"system":"AKIAIOSFODNN7EXAMPLE","messages":[{"content":[{"type":"tool_use","input":{"a":["x",{"b":"DB_PASSWORD=hunter2"}]}}]}]}`))
	f.Add([]byte(`{"messages":[{"content":"\u00e9\ud83d\ude42 \"quoted\" sk-ant-api03-FAKE-demo-key-not-real"}]}`))
	f.Add([]byte(`not json AKIAIOSFODNN7EXAMPLE`))
	f.Add([]byte(`[1,2,{"messages":3}]`))
	m := newTestMasker(f, Config{PII: true})
	f.Fuzz(func(t *testing.T, body []byte) {
		out, _, err := m.Request(body, nil)
		if err != nil {
			return
		}
		if json.Valid(body) && !json.Valid(out) {
			t.Fatalf("valid JSON became invalid: %q -> %q", body, out)
		}
		again, _, _ := m.Request(body, nil)
		if !bytes.Equal(out, again) {
			t.Fatal("not deterministic")
		}
		m.Response(body, nil)
	})
}
