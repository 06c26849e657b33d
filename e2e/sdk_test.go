package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/internal/testutil"
)

// sdkResult is what the SDK clients (testdata/gosdk, node/client.mjs) print.
type sdkResult struct {
	ID         string          `json:"id"`
	Text       string          `json:"text"`
	StopReason string          `json:"stop_reason"`
	Tool       string          `json:"tool"`
	Input      json.RawMessage `json:"input"`
	FirstStop  string          `json:"first_stop"`
	Deltas     int             `json:"deltas"`
	Error      string          `json:"error"`
}

// sdkClient runs one SDK client in one mode.
type sdkClient struct {
	name   string
	leaked string // the key embedded in the client's code
	run    func(t *testing.T, h *Harness, mode, prompt string) Result
}

func sdkClients(t *testing.T) []sdkClient {
	goSDK := sdkClient{"go-sdk", "sk-ant-api03-FAKE-leaked-key-in-go-app", func(t *testing.T, h *Harness, mode, prompt string) Result {
		return h.GoSDK(t, mode, prompt)
	}}
	nodeSDK := sdkClient{"ts-sdk", "sk-ant-api03-FAKE-leaked-key-in-node-app", func(t *testing.T, h *Harness, mode, prompt string) Result {
		testutil.Require(t, bins.NodeDir != "", bins.NodeErr)
		return h.Run(t, "node", filepath.Join(bins.NodeDir, "client.mjs"), mode, prompt)
	}}
	return []sdkClient{goSDK, nodeSDK}
}

// TestSDKs runs each official SDK, unmodified (default base URL, embedded
// key), non-streaming, streaming and through a tool-use round trip.
func TestSDKs(t *testing.T) {
	h := Start(t, Options{})
	for _, c := range sdkClients(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Run("message", func(t *testing.T) { checkMessage(t, h, c, "message") })
			t.Run("stream", func(t *testing.T) { checkMessage(t, h, c, "stream") })
			t.Run("tools", func(t *testing.T) { checkTools(t, h, c) })
		})
	}
}

func runSDK(t *testing.T, h *Harness, c sdkClient, mode, prompt string) sdkResult {
	t.Helper()
	h.Upstream.Reset()
	res := c.run(t, h, mode, prompt)
	var r sdkResult
	res.JSON(t, &r)
	if res.Code != 0 || r.Error != "" {
		t.Fatalf("%s %s: exit %d: %s\nstderr: %s\ndaemon log:\n%s", c.name, mode, res.Code, r.Error, res.Stderr, h.Log())
	}
	return r
}

func checkMessage(t *testing.T, h *Harness, c sdkClient, mode string) {
	prompt := "hello from " + c.name + " " + mode
	r := runSDK(t, h, c, mode, prompt)
	if !strings.Contains(r.Text, prompt) || r.StopReason != "end_turn" {
		t.Fatalf("client got %+v", r)
	}
	if mode == "stream" && r.Deltas == 0 {
		t.Fatalf("stream delivered no deltas: %+v", r)
	}
	h.AssertUpstreamGotOnlyManagedKey(t, 1, c.leaked)
	rec := h.LastAudit(t)
	if rec.Stream != (mode == "stream") || rec.Status != 200 || rec.EmbeddedClass != "api_key" || rec.Caller.PID == 0 {
		t.Fatalf("audit record %+v", rec)
	}
}

func checkTools(t *testing.T, h *Harness, c sdkClient) {
	r := runSDK(t, h, c, "tools", "what is the weather in San Francisco?")
	if r.Tool != "get_weather" || r.FirstStop != "tool_use" || r.StopReason != "end_turn" || !strings.Contains(string(r.Input), "San Francisco") {
		t.Fatalf("tool round trip: %+v", r)
	}
	h.AssertUpstreamGotOnlyManagedKey(t, 2, c.leaked)
	second := h.Upstream.Requests()[1]
	if !strings.Contains(string(second.Body), `"tool_result"`) || !strings.Contains(string(second.Body), "18°C and sunny") {
		t.Fatalf("the tool result did not reach the upstream: %s", second.Body)
	}
}
