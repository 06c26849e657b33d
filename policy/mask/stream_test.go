package mask

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// TestStreamEqualsWholeText is the exactness property: whatever the
// chunking of the SSE bytes and the split of the text into deltas, the
// client receives exactly Text(whole text) for each block, in valid SSE.
func TestStreamEqualsWholeText(t *testing.T) {
	m := newTestMasker(t, Config{PII: true})
	for seed := uint64(1); seed <= 400; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		text := randomText(r, 50+r.IntN(1500))
		toolJSON, _ := json.Marshal(map[string]string{"command": randomText(r, 20+r.IntN(400))})
		nl := "\n"
		if seed%4 == 0 {
			nl = "\r\n"
		}
		stream := buildStream(r, nl, randomRunePieces(r, text), randomRunePieces(r, string(toolJSON)))
		var sel Selection
		if seed%5 == 0 {
			sel = Selection{"aws_access_key_id", "email", "password_assignment"}
		}
		var out bytes.Buffer
		var onEvent int
		s := m.NewStream(&out, sel, StreamOptions{OnEvent: func([]byte) { onEvent++ }})
		feedChunks(t, r, s, []byte(stream))
		events := parseSSE(t, out.Bytes())
		wantText, res := m.Text(text, sel)
		wantJSON, _ := m.Text(string(toolJSON), sel)
		if got := blockText(events, 0, "text"); got != wantText {
			t.Fatalf("seed %d: text block\n got %q\nwant %q", seed, got, wantText)
		}
		if got := blockText(events, 1, "partial_json"); got != wantJSON {
			t.Fatalf("seed %d: tool block\n got %q\nwant %q", seed, got, wantJSON)
		}
		if onEvent != strings.Count(strings.ReplaceAll(out.String(), "\r\n", "\n"), "\n\n") {
			t.Fatalf("seed %d: OnEvent called %d times", seed, onEvent)
		}
		if sr := s.Result(); countSum(sr.Counts) < countSum(res.Counts) || sr.Incomplete {
			t.Fatalf("seed %d: stream result %+v, text result %+v", seed, sr, res)
		}
	}
}

// TestStreamPassesOtherEventsByteForByte: a stream without secrets, whose
// deltas do not end in what may begin a secret, is returned unchanged,
// byte for byte, whatever the chunking.
func TestStreamPassesOtherEventsByteForByte(t *testing.T) {
	m := newTestMasker(t, Config{})
	r := rand.New(rand.NewPCG(3, 3))
	text := "Hello, 日本語 world 🙂. Nothing hidden here, sk- is a prefix and AKI too.\n"
	in := buildStream(r, "\n", strings.SplitAfter(text, " "), []string{`{"command": "ls -la"}`}) +
		"event: thinking\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"sk-ant-api03-FAKE-demo-key-not-real\"}}\n\n"
	var out bytes.Buffer
	feedChunks(t, r, m.NewStream(&out, nil, StreamOptions{}), []byte(in))
	if out.String() != in {
		t.Fatalf("stream changed:\n got %q\nwant %q", out.String(), in)
	}
}

func TestStreamMalformedPassesThrough(t *testing.T) {
	m := newTestMasker(t, Config{})
	cases := map[string]string{
		"invalid json":   "event: content_block_delta\ndata: {not json sk-\n\n",
		"no data":        "event: ping\n\n",
		"comment":        ": hello\n\n",
		"unknown event":  "event: future_thing\ndata: {\"type\":\"future_thing\",\"x\":[1,2]}\n\n",
		"delta no index": "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\n",
	}
	for name, in := range cases {
		var out bytes.Buffer
		core, logs := observer.New(zap.WarnLevel)
		s := m.NewStream(&out, nil, StreamOptions{Log: zap.New(core)})
		s.Write([]byte(in))
		s.Close()
		if out.String() != in {
			t.Errorf("%s: got %q", name, out.String())
		}
		if wantLogged := name == "invalid json"; (logs.Len() == 1) != wantLogged || (s.Passthrough() == 1) != wantLogged {
			t.Errorf("%s: %d warnings, passthrough %d", name, logs.Len(), s.Passthrough())
		}
		for _, e := range logs.All() {
			if strings.Contains(fmt.Sprint(e.ContextMap()), "sk-") {
				t.Errorf("%s: log carries content: %v", name, e.ContextMap())
			}
		}
	}
}

// TestStreamUnterminatedTailIsMaskedAsText: bytes that never form a
// complete event are still not allowed to carry a secret out.
func TestStreamUnterminatedTailIsMaskedAsText(t *testing.T) {
	m := newTestMasker(t, Config{})
	var out bytes.Buffer
	s := m.NewStream(&out, nil, StreamOptions{})
	s.Write([]byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"key sk-ant-api03-FAKE-demo-key-not-real\"}}"))
	s.Close()
	mustContainNone(t, out.Bytes(), "sk-ant-api03-FAKE-demo-key-not-real")
	if s.Passthrough() != 1 {
		t.Errorf("passthrough = %d, want 1", s.Passthrough())
	}
}

// TestStreamHugeEventIsCut: an event larger than the parse bound cannot be
// masked, so it never passes: the stream ends with an error event, flagged,
// and the memory held stays near the bound.
func TestStreamHugeEventIsCut(t *testing.T) {
	m := newTestMasker(t, Config{MaxHold: 1024})
	first := textDelta("\n", 0, "text", "text_delta", "before ")
	huge := first + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"" +
		strings.Repeat("a", 3<<20) + " sk-ant-api03-FAKE-demo-key-not-real\"}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	var out bytes.Buffer
	s := m.NewStream(&out, nil, StreamOptions{})
	var err error
	for i := 0; i < len(huge) && err == nil; i += 4096 {
		_, err = s.Write([]byte(huge[i:min(len(huge), i+4096)]))
	}
	s.Close()
	events := parseSSE(t, out.Bytes())
	if err != ErrStreamCut || len(events) != 2 || events[1].name != "error" || strings.Contains(out.String(), "aaaa") {
		t.Fatalf("err %v, out %q", err, tail(out.String()))
	}
	if !s.Result().Incomplete {
		t.Errorf("result %+v", s.Result())
	}
	if s.sc.Buffered() > m.EventLimit()+4096 {
		t.Errorf("scanner holds %d bytes", s.sc.Buffered())
	}
}

// TestStreamHoldOverflow: a block that would hold more than MaxHold is
// flushed unmasked and flagged, or, with CutOnOverflow, ends the stream
// with an error event.
func TestStreamHoldOverflow(t *testing.T) {
	// A private key without its END holds back up to 12 KiB.
	pieces := []string{"-----BEGIN RSA PRIVATE KEY-----\n", strings.Repeat("QUFB", 100), strings.Repeat("QkJC", 100)}
	r := rand.New(rand.NewPCG(1, 1))
	in := buildStream(r, "\n", pieces, nil)
	for _, cut := range []bool{false, true} {
		m := newTestMasker(t, Config{MaxHold: 256, CutOnOverflow: cut})
		var out bytes.Buffer
		s := m.NewStream(&out, nil, StreamOptions{})
		_, err := s.Write([]byte(in))
		s.Close()
		if !s.Result().Incomplete {
			t.Errorf("cut=%v: not flagged incomplete", cut)
		}
		if cut {
			if err != ErrStreamCut || !strings.Contains(out.String(), "event: error\n") || strings.Contains(out.String(), "message_stop") {
				t.Errorf("cut: err %v, out %q", err, tail(out.String()))
			}
			continue
		}
		events := parseSSE(t, out.Bytes())
		if got := blockText(events, 0, "text"); got != strings.Join(pieces, "") {
			t.Errorf("flushed text differs: %q", tail(got))
		}
	}
}

func TestStreamMasksCitationsAndErrorFlushes(t *testing.T) {
	m := newTestMasker(t, Config{})
	in := textDelta("\n", 0, "text", "text_delta", "my key is sk-ant-api03-FAKE") +
		sseEvent("\n", "content_block_delta", map[string]any{"type": "content_block_delta", "index": 1,
			"delta": map[string]any{"type": "citations_delta", "citation": map[string]any{"type": "char_location", "cited_text": "token AKIAIOSFODNN7EXAMPLE"}}}) +
		sseEvent("\n", "error", map[string]any{"type": "error", "error": map[string]any{"type": "overloaded_error", "message": "Overloaded"}})
	var out bytes.Buffer
	s := m.NewStream(&out, nil, StreamOptions{})
	feedChunks(t, rand.New(rand.NewPCG(5, 5)), s, []byte(in))
	mustContainNone(t, out.Bytes(), "AKIAIOSFODNN7EXAMPLE")
	events := parseSSE(t, out.Bytes())
	if events[len(events)-1].name != "error" {
		t.Errorf("last event %q, want error", events[len(events)-1].name)
	}
	want, _ := m.Text("my key is sk-ant-api03-FAKE", nil)
	if got := blockText(events, 0, "text"); got != want {
		t.Errorf("text %q, want %q", got, want)
	}
	if c := s.Result().Counts; c["aws_access_key_id"] != 1 {
		t.Errorf("counts %v", c)
	}
}

// TestStreamMultiLineDataAndEmptyName: data split over several lines is
// joined (without touching the raw event, which passes byte for byte when
// clean), and an empty event name survives a flushed, masked block.
func TestStreamMultiLineDataAndEmptyName(t *testing.T) {
	m := newTestMasker(t, Config{})
	clean := "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\ndata: \"delta\":{\"type\":\"text_delta\",\"text\":\"hello!\"}}\n\n"
	if out := runStream(t, m, []byte(clean), len(clean)+1); string(out) != clean {
		t.Fatalf("clean multi-line event changed:\n%q", out)
	}
	secret := "event:\ndata: {\"type\":\"content_block_delta\",\"index\":0,\ndata: \"delta\":{\"type\":\"text_delta\",\"text\":\"key AKIAIOSFODNN7EXAMPLE\"}}\n\n" +
		"event:\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
	out := runStream(t, m, []byte(secret), 7)
	if bytes.Contains(out, []byte("IOSFODNN7EXAMPLE")) || !bytes.Contains(out, []byte("[REDACTED:aws_access_key_id:")) {
		t.Fatalf("not masked:\n%q", out)
	}
	if !bytes.HasPrefix(out, []byte("event: \ndata: ")) {
		t.Fatalf("empty event name lost:\n%q", out)
	}
}
