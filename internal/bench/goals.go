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

func (r *Report) goals() []goal {
	a := AirlockTarget
	p99 := r.median("rps_c16", a, "p99") - r.median("rps_c16", Baseline, "p99")
	vsNginx := r.median("rps_c16", a, "rps") / r.median("rps_c16", "nginx", "rps")
	vsMitm := r.median("rps_c16", a, "rps") / r.median("rps_c16", "mitmproxy", "rps")
	vsNginxH2 := r.median("h2load_c16", a, "rps") / r.median("h2load_c16", "nginx", "rps")
	ttfe := r.median("stream", a, "ttfe_p50") - r.median("stream", Baseline, "ttfe_p50")
	gs := []goal{
		{"added p99 latency over direct, concurrency 16", "≤ 1 ms", p99, "ms", func(v float64) bool { return v <= 1 }},
		{"throughput vs nginx, concurrency 16 (masking and audit on)", "≥ 1×", vsNginx, "×", func(v float64) bool { return v >= 1 }},
		{"the same, driven by h2load", "≥ 1×", vsNginxH2, "×", func(v float64) bool { return v >= 1 }},
		{"throughput vs mitmproxy, concurrency 16", "≥ 10×", vsMitm, "×", func(v float64) bool { return v >= 10 }},
		{"time-to-first-event overhead (p50)", "≤ 1 ms", ttfe, "ms", func(v float64) bool { return v <= 1 }},
		{"memory per idle connection", "≤ 64 KiB", r.median("memory", a, "idle_kib"), "KiB", func(v float64) bool { return v <= 64 }},
		{"memory per open stream", "≤ 256 KiB", r.median("memory", a, "stream_kib"), "KiB", func(v float64) bool { return v <= 256 }},
	}
	if r.Connect != nil {
		gs = append(gs, goal{"connect() overhead with the programs attached, non-target destination", "≤ 1 µs",
			r.Connect.overheadNs() / 1000, "µs", func(v float64) bool { return v <= 1 }})
	}
	return gs
}

func (r *Report) writeGoals(b *strings.Builder) {
	if !slices.ContainsFunc(r.Targets, func(t Target) bool { return t.Name == AirlockTarget }) {
		return
	}
	b.WriteString("## Goals (issue 8)\n\n| goal | target | measured | |\n| --- | --- | ---: | --- |\n")
	for _, g := range r.goals() {
		verdict := "not measured"
		if !math.IsNaN(g.value) && !math.IsInf(g.value, 0) {
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
		"Airlock with capture, masking and audit %s; Airlock with masking and audit off %s; nginx swapping the header %s; mitmproxy %s.\n\n",
		ratio(AirlockTarget), ratio("airlock-lean"), ratio("nginx"), ratio("mitmproxy"))
}
