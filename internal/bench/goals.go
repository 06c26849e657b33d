package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// goal is one of the targets, checked against the measured figures.
type goal struct {
	what, target string
	value        float64
	unit         string
	met          func(float64) bool
}

// AirlockTarget is the configuration the goals are about (capture, masking, audit on).
const AirlockTarget = "airlock"

// goals are issue 16's targets, each computed from this run's medians.
func (r *Report) goals() []goal {
	a, d := AirlockTarget, Baseline
	ratio := func(id, x, y, key string) float64 { return r.median(id, x, key) / r.median(id, y, key) }
	addedBy := func(t, id, key string) float64 { return r.median(id, t, key) - r.median(id, d, key) }
	added := func(id, key string) float64 { return addedBy(a, id, key) }
	atLeast := func(n float64) func(float64) bool { return func(v float64) bool { return v >= n } }
	atMost := func(n float64) func(float64) bool { return func(v float64) bool { return v <= n } }
	return []goal{
		{"full path vs nginx, concurrency 16 keep-alive (Go client)", "≥ 0.6×", ratio("rps_c16", a, "nginx", "rps"), "×", atLeast(0.6)},
		{"the same, driven by h2load", "≥ 0.4×", ratio("h2load_c16", a, "nginx", "rps"), "×", atLeast(0.4)},
		{"lean path (masking off, audit on) vs nginx, concurrency 16", "≥ 0.9×", ratio("rps_c16", "airlock-lean", "nginx", "rps"), "×", atLeast(0.9)},
		{"added p99 latency over direct, concurrency 16", "≤ 5 ms", added("rps_c16", "p99"), "ms", atMost(5)},
		{"added p50 latency over direct, concurrency 1", "≤ 0.3 ms", added("rps_c1", "p50"), "ms", atMost(0.3)},
		{"added time to first event, one stream at a time (p50)", "≤ 1 ms", added("stream_c1", "ttfe_p50"), "ms", atMost(1)},
		{"added time to first event, 4 concurrent streams (p50)", "≤ 1 ms", added("stream", "ttfe_p50"), "ms", atMost(1)},
		{"the same at a model's pace (events 1 ms apart), one stream (p50)", "reported", added("stream_paced_c1", "ttfe_p50"), "ms", nil},
		{"the same at a model's pace, 4 concurrent streams (p50)", "reported", added("stream_paced", "ttfe_p50"), "ms", nil},
		{"Go's ReverseProxy alone (go-proxy): added time to first event, one stream (p50)", "reported", addedBy(GoProxyTarget, "stream_c1", "ttfe_p50"), "ms", nil},
		{"the same, 4 concurrent streams (p50)", "reported", addedBy(GoProxyTarget, "stream", "ttfe_p50"), "ms", nil},
		{"added time per streamed event (p50)", "≤ 5 µs", added("stream", "event_us"), "µs", atMost(5)},
		{"vs mitmproxy, concurrency 16", "≥ 10×", ratio("rps_c16", a, "mitmproxy", "rps"), "×", atLeast(10)},
		{"vs mitmproxy, concurrency 256", "≥ 10×", ratio("rps_c256", a, "mitmproxy", "rps"), "×", atLeast(10)},
		{"new connection per request vs nginx", "≥ 0.8×", ratio("newconn", a, "nginx", "rps"), "×", atLeast(0.8)},
		{"streams open at once, with zero errors", "10,000", r.streamsHeld(), "streams", atLeast(float64(FullSizes.Streams))},
		{"memory per open stream at that scale", "≤ 128 KiB", r.median("streams10k", a, "stream_kib"), "KiB", atMost(128)},
		{"Claude Code-shaped turns vs direct (turns/s)", "reported", ratio("claudecode", a, d, "rps"), "×", nil},
		{"Claude Code-shaped turns vs nginx (turns/s)", "reported", ratio("claudecode", a, "nginx", "rps"), "×", nil},
		{"Claude Code-shaped turns: added time to first event (p50)", "reported", added("claudecode", "ttfe_p50"), "ms", nil},
	}
}

// streamsHeld is the streams Airlock held open at once, or 0 if any failed.
func (r *Report) streamsHeld() float64 {
	m, ok := r.find("streams10k")
	if !ok || len(m.Runs[AirlockTarget]) == 0 {
		return math.NaN()
	}
	if m.Errors(AirlockTarget) > 0 {
		return 0
	}
	return m.Summary(AirlockTarget, "streams").Median
}

func (r *Report) writeGoals(b *strings.Builder) {
	if !slices.ContainsFunc(r.Targets, func(t Target) bool { return t.Name == AirlockTarget }) {
		return
	}
	b.WriteString("## Goals (issue 16)\n\nEach goal is computed from this run's medians: ratios divide requests/s measured side by side; added figures subtract direct's.\n\n| goal | target | measured | |\n| --- | --- | ---: | --- |\n")
	for _, g := range r.goals() {
		verdict := "not measured"
		switch {
		case math.IsNaN(g.value) || math.IsInf(g.value, 0):
		case g.met == nil:
			verdict = "measured"
		default:
			verdict = map[bool]string{true: "met", false: "**missed**"}[g.met(g.value)]
		}
		measured := "—"
		if verdict != "not measured" {
			measured = format(g.value) + " " + g.unit
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", g.what, g.target, measured, verdict)
	}
	b.WriteString("\n")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// headline is the sentence the README quotes: throughput ratios at concurrency 16.
func (r *Report) headline() string {
	ratio := func(target string) string {
		v := r.median("rps_c16", target, "rps") / r.median("rps_c16", Baseline, "rps")
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "not measured"
		}
		return fmt.Sprintf("%.2f×", v)
	}
	return fmt.Sprintf("**Headline** (non-streamed requests at concurrency 16, requests/s as a share of direct's): "+
		"Airlock with capture, masking and audit %s; Airlock with masking off (audit on) %s; nginx swapping the header %s; mitmproxy %s.\n\n",
		ratio(AirlockTarget), ratio("airlock-lean"), ratio("nginx"), ratio("mitmproxy"))
}
