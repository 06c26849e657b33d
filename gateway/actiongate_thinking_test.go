package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/internal/sse"
)

// thinkingThenBash is an extended-thinking answer: a signed thinking block,
// then a Bash call. The client sends the thinking block back, signature and
// all, in its next request, and the API rejects one that was altered.
func thinkingThenBash(command string) (stream, thinking string) {
	var all, think strings.Builder
	ev := func(b *strings.Builder, name, data string) { fmt.Fprintf(b, "event: %s\ndata: %s\n\n", name, data) }
	ev(&all, "message_start", `{"type":"message_start","message":{"id":"msg_th","type":"message","role":"assistant","content":[],"model":"m","usage":{"input_tokens":5,"output_tokens":1}}}`)
	ev(&think, "content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}`)
	ev(&think, "content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The user wants the build dir gone."}}`)
	ev(&think, "content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"RkFLRS1zaWduYXR1cmUtbm90LXJlYWw="}}`)
	ev(&think, "content_block_stop", `{"type":"content_block_stop","index":0}`)
	all.WriteString(think.String())
	ev(&all, "content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_th","name":"Bash","input":{}}}`)
	in, _ := json.Marshal(fmt.Sprintf(`{"command":%q}`, command))
	ev(&all, "content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":`+string(in)+`}}`)
	ev(&all, "content_block_stop", `{"type":"content_block_stop","index":1}`)
	ev(&all, "message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":30}}`)
	ev(&all, "message_stop", `{"type":"message_stop"}`)
	return all.String(), think.String()
}

// A refused call after signed thinking: the thinking block reaches the
// client byte for byte (its signature still verifies when sent back), the
// call becomes a text block at the call's index, and the turn ends.
func TestRefusalAfterSignedThinking(t *testing.T) {
	stream, thinking := thinkingThenBash("rm -rf build")
	e := newEnv(t, actionPolicy, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, stream)
	})
	got := e.do(newRequest("POST", "/v1/messages", streamReq)).Body.String()
	if !strings.Contains(got, thinking) {
		t.Fatalf("the signed thinking block was altered:\n%s", got)
	}
	blocks := map[string]string{} // index -> type of the block started there
	stop := ""
	for _, raw := range strings.SplitAfter(got, "\n\n") {
		var d struct {
			Type         string
			Index        int
			ContentBlock struct{ Type string } `json:"content_block"`
			Delta        struct {
				StopReason string `json:"stop_reason"`
			}
		}
		if json.Unmarshal(sse.Parse([]byte(raw)).Data, &d) != nil {
			continue
		}
		switch d.Type {
		case "content_block_start":
			blocks[fmt.Sprint(d.Index)] = d.ContentBlock.Type
		case "message_delta":
			stop = d.Delta.StopReason
		}
	}
	if blocks["0"] != "thinking" || blocks["1"] != "text" || stop != "end_turn" || strings.Contains(got, "toolu_th") {
		t.Fatalf("blocks %v, stop_reason %q; want thinking, then the refusal as text, end_turn:\n%s", blocks, stop, got)
	}
	if !strings.Contains(got, "no-recursive-rm") {
		t.Fatalf("the refusal does not name its rule:\n%s", got)
	}
}
