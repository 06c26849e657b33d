package bench

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Sizes shapes the scenarios: the full suite or the smoke mode.
type Sizes struct {
	Warmup, Duration time.Duration
	Concurrency      []int  // non-streamed request scenarios
	StreamEvents     int    // text deltas per streamed answer
	PacedEvents      int    // text deltas per streamed answer at a model's pace
	BigPrompt        int    // bytes of the multi-turn prompt
	OpenConns        int    // connections and streams held open for the memory scenario
	Streams          int    // streams held open at once for the scale scenario
	AgentEvents      int    // text deltas per Claude Code-shaped answer (then a tool call)
	H2LoadDir        string // scratch directory for h2load's body file; "" = no h2load scenario
}

// FullSizes are the figures, sized to finish in minutes on 2 cores.
var FullSizes = Sizes{Warmup: 500 * time.Millisecond, Duration: 2 * time.Second, Concurrency: []int{1, 16, 256},
	StreamEvents: 200, PacedEvents: 20, BigPrompt: 200 << 10, OpenConns: 1000, Streams: 10000, AgentEvents: ClaudeCodeEvents}

// SmokeSizes prove the harness works in a few seconds.
var SmokeSizes = Sizes{Warmup: 100 * time.Millisecond, Duration: 300 * time.Millisecond, Concurrency: []int{1, 16},
	StreamEvents: 50, PacedEvents: 5, BigPrompt: 200 << 10, OpenConns: 20, Streams: 50, AgentEvents: 50}

var (
	rpsMetrics     = []Metric{{"rps", "req/s", true}, {"p50", "p50 ms", false}, {"p99", "p99 ms", false}}
	memMetrics     = []Metric{{"idle_kib", "KiB per idle conn", false}, {"stream_kib", "KiB per open stream", false}, {"base_mib", "RSS at rest MiB", false}}
	streamsMetrics = []Metric{{"streams", "streams open at once", true}, {"stream_kib", "KiB per stream", false}, {"open_s", "seconds to open them", false}}
	ttfeMetrics    = []Metric{{"ttfe_p50", "first event p50 ms", false}, {"ttfe_p99", "first event p99 ms", false}}
	strMetrics     = slices.Concat(ttfeMetrics, []Metric{{"event_us", "µs per event (p50)", false}, {"events_per_s", "events/s", true}})
)

// pacedEventMS spaces the paced scenarios' events. A model streams an event
// every few tens of milliseconds; one millisecond is already far faster,
// and long enough for each event to be handled before the next is written.
const pacedEventMS = 1

const pacedNote = "The first event as in the two scenarios above, but the fake API waits between events as the real API does (it streams as the model writes), instead of writing the rest of the answer back to back. Back to back, the rest of the stream competes with the first event for the two cores in Airlock and the fake API; here the first event crosses an otherwise idle path, so this is the time Airlock's path itself adds."

// Scenarios returns the suite's measurements, in report order.
func Scenarios(z Sizes) []Scenario {
	var out []Scenario
	for _, c := range z.Concurrency {
		l := Load{Concurrency: c, Warmup: z.Warmup, Duration: z.Duration, Body: SmallBody}
		out = append(out, Scenario{ID: fmt.Sprintf("rps_c%d", c), Title: fmt.Sprintf("Non-streamed requests, concurrency %d (keep-alive)", c),
			Note: "A one-turn request and a short JSON answer.", Metrics: rpsMetrics, Run: l.Run})
	}
	newConn := Load{Concurrency: 4, Warmup: z.Warmup, Duration: z.Duration, NewConn: true, Body: SmallBody}
	stream := Load{Concurrency: 4, Warmup: z.Warmup, Duration: z.Duration, Stream: true, Body: StreamBody, Header: StreamHeader(z.StreamEvents, 20)}
	lone := stream
	lone.Concurrency = 1
	paced := stream
	paced.Header = PacedStreamHeader(z.PacedEvents, 20, pacedEventMS)
	pacedLone := paced
	pacedLone.Concurrency = 1
	big := Load{Concurrency: 4, Warmup: z.Warmup, Duration: z.Duration, Body: BigBody(z.BigPrompt)}
	mem := Memory{N: z.OpenConns, Settle: 500 * time.Millisecond}
	agent := Load{Concurrency: 4, Warmup: z.Warmup, Duration: z.Duration, Stream: true, Header: ClaudeCodeHeader(z.AgentEvents),
		Conversation: func(w int) [][]byte { return ClaudeCodeConversation(w, ClaudeCodeTurns) }}
	streams := OpenStreams{N: z.Streams, Settle: time.Second, Limit: 3 * time.Minute}
	if z.H2LoadDir != "" && lookPath("h2load") {
		h := H2Load{Concurrency: 16, Warmup: z.Warmup, Duration: max(z.Duration, time.Second), Body: SmallBody, Dir: z.H2LoadDir}
		cmd := "h2load " + strings.Join(h.Args(Target{Addr: "<configuration's address>", Key: "<key>"}, "body.json"), " ")
		out = append(out, Scenario{ID: "h2load_c16", Title: "Non-streamed requests, concurrency 16, driven by h2load (HTTP/1.1)",
			Note:    "The same request driven by nghttp2's h2load, which spends far less CPU per request than the Go client (all processes share the cores). h2load prints no percentiles, only the mean. Command: `" + cmd + "`",
			Metrics: []Metric{{"rps", "req/s", true}, {"mean", "mean ms", false}}, Run: h.Run,
			Skip: func(t Target) bool { return t.Dial != nil }}) // h2load dials from the host's namespace
	}
	return append(out,
		Scenario{ID: "newconn", Title: "A new connection per request (full TLS handshake), concurrency 4",
			Note: "No keep-alive and no TLS session resumption: each request pays a handshake to the proxy (and the proxy's own upstream choice).", Metrics: rpsMetrics, Run: newConn.Run},
		Scenario{ID: "stream", Title: fmt.Sprintf("Streamed answers: %d text deltas of 20 bytes, concurrency 4", z.StreamEvents),
			Note: "Time to first event is from sending the request to reading message_start; µs per event is (stream time − first event) / deltas.", Metrics: strMetrics, Run: stream.Run},
		Scenario{ID: "stream_c1", Title: fmt.Sprintf("Streamed answers one at a time: %d text deltas of 20 bytes, concurrency 1", z.StreamEvents),
			Note: "The same stream with no other stream in flight: the time Airlock adds to the first event without queueing behind other streams' events for the CPU (the concurrency-4 scenario above keeps both cores busy, so its first event also waits its turn).", Metrics: strMetrics, Run: lone.Run},
		Scenario{ID: "stream_paced_c1", Title: fmt.Sprintf("Streamed answers at a model's pace, one at a time: %d text deltas %d ms apart, concurrency 1", z.PacedEvents, pacedEventMS),
			Note: pacedNote, Metrics: ttfeMetrics, Run: pacedLone.Run, NoProfile: true},
		Scenario{ID: "stream_paced", Title: fmt.Sprintf("Streamed answers at a model's pace: %d text deltas %d ms apart, concurrency 4", z.PacedEvents, pacedEventMS),
			Note: pacedNote, Metrics: ttfeMetrics, Run: paced.Run, NoProfile: true},
		Scenario{ID: "bigprompt", Title: fmt.Sprintf("A %d KB multi-turn prompt, concurrency 4", z.BigPrompt>>10),
			Note: "Every turn is scanned by masking on every request; the answer is short.", Metrics: rpsMetrics, Run: big.Run},
		Scenario{ID: "claudecode", Title: fmt.Sprintf("Claude Code-shaped turns: ~50 KB requests, %d streamed text deltas then a tool call, concurrency 4", z.AgentEvents),
			Note:    fmt.Sprintf("Each worker is one agent session: the system prompt (12 KB), 20 tool definitions (25 KB) and the conversation so far, resent every turn (%d turns, 38–63 KB, then a new session); the answer streams text deltas of 12 bytes and ends with a tool_use block (stop_reason tool_use).", ClaudeCodeTurns),
			Metrics: append(slices.Clone(rpsMetrics), strMetrics[0], strMetrics[2]), Run: agent.Run},
		Scenario{ID: "memory", Title: fmt.Sprintf("Memory: %d idle keep-alive connections, then %d open streams (HTTP/1.1)", z.OpenConns, z.OpenConns),
			Note:    "Resident memory of the proxy's processes (all workers), before, with the idle connections and with the streams added; direct has no proxy. nginx preallocates its worker_connections at start, so most of its per-connection memory is already in its RSS at rest.",
			Metrics: memMetrics, Run: mem.Run, Skip: func(t Target) bool { return t.PIDs == nil }, Runs: 1, NoProfile: true},
		Scenario{ID: "streams10k", Title: fmt.Sprintf("Scale: %d streams open at once (HTTP/1.1, one per connection)", z.Streams),
			Note:    "Airlock (the goal's configuration) only: the streams open 32 at a time and stay open (one event a minute) while the proxy's resident memory is read; bounded at 3 minutes. KiB per stream is the RSS growth divided by the streams held.",
			Metrics: streamsMetrics, Run: streams.Run, Runs: 1, NoProfile: true,
			Skip: func(t Target) bool { return t.PIDs == nil || (t.Name != AirlockTarget && t.Name != SmokeTarget) }},
	)
}
