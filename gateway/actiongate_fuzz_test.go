package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"regexp"
	"testing"

	"github.com/airlock-dev/airlock/internal/sse"
)

// FuzzActionGate: whatever an upstream streams and wherever its reads are
// cut, the client gets the same bytes, and never a Bash tool_use block (read
// as a client reads it) whose command the policy refuses. (A block of another
// name, or none, is not what actionPolicy refuses: a client runs no command
// from it.)
func FuzzActionGate(f *testing.F) {
	f.Add([]byte(bashStream(`{"command":"rm -rf /"}`)), uint16(300), uint16(900))
	f.Add([]byte(bashStream(`{"command":"ls"}`)), uint16(10), uint16(1200))
	f.Add([]byte(bashStream(`{"comm`, `and":"rm \u002drf /x"}`)), uint16(700), uint16(701))
	f.Add([]byte(bashStream(`{"command":"deploy now"}`)), uint16(0), uint16(5))
	e := newEnv(f, actionPolicy, nil, withMasker(f), withConfig(func(c *Config) { c.MaxEvent, c.ActionHold = 4096, 2048 }))
	run := func(t *testing.T, pieces ...[]byte) []byte {
		ex := e.gw.begin(newRequest("POST", "/v1/messages", streamReq))
		ex.maskResp = true
		var err error
		if ex.cred, err = e.store.Get(context.Background(), "main"); err != nil {
			t.Fatal(err)
		}
		b := e.gw.newRespBody(ex, &chunks{pieces: pieces}, e.gw.newSSETransform(context.Background(), ex))
		out, err := io.ReadAll(b)
		b.Close()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	f.Fuzz(func(t *testing.T, data []byte, a, b uint16) {
		i, j := min(int(a), len(data)), min(int(b), len(data))
		i, j = min(i, j), max(i, j)
		whole := run(t, bytes.Clone(data))
		split := run(t, bytes.Clone(data[:i]), bytes.Clone(data[i:j]), bytes.Clone(data[j:]))
		whole, split = requestIDs.ReplaceAll(whole, []byte("req_X")), requestIDs.ReplaceAll(split, []byte("req_X"))
		if !bytes.Equal(whole, split) {
			t.Fatalf("cuts %d,%d changed the output:\n whole %q\n split %q", i, j, whole, split)
		}
		for _, in := range clientToolInputs(whole, "Bash") {
			if refusedCommand.MatchString(in) {
				t.Fatalf("a refused call reached the client: %q\n%q", in, whole)
			}
		}
	})
}

var (
	refusedCommand = regexp.MustCompile(`rm\s+-rf`)
	requestIDs     = regexp.MustCompile(`req_airlock_[0-9a-f]+_[0-9]+`) // one per response: not the stream's content
)

// clientToolInputs reads a stream as a client does (JSON.parse semantics:
// exact keys, the last of repeated ones) and returns the input of every
// tool_use block named tool, decoded when it is JSON.
func clientToolInputs(stream []byte, tool string) []string {
	sc := sse.NewScanner(len(stream) + 1)
	sc.Write(stream)
	sc.Close()
	inputs := map[float64]*bytes.Buffer{}
	var out []string
	for sc.Scan() {
		var ev map[string]any
		if json.Unmarshal(sc.Event().Data, &ev) != nil {
			continue
		}
		idx, _ := ev["index"].(float64)
		if cb, ok := ev["content_block"].(map[string]any); ok && ev["type"] == "content_block_start" && cb["type"] == "tool_use" && cb["name"] == tool {
			inputs[idx] = &bytes.Buffer{}
			if in, ok := cb["input"].(map[string]any); ok && len(in) > 0 {
				start, _ := json.Marshal(in) // the SDKs start from it when no delta follows
				out = append(out, string(start))
			}
		}
		if d, ok := ev["delta"].(map[string]any); ok && ev["type"] == "content_block_delta" && inputs[idx] != nil {
			s, _ := d["partial_json"].(string)
			inputs[idx].WriteString(s)
		}
	}
	for _, b := range inputs {
		var v any
		if json.Unmarshal(b.Bytes(), &v) == nil {
			d, _ := json.Marshal(v)
			out = append(out, string(d))
		}
		out = append(out, b.String())
	}
	return out
}
