package bench

import (
	"context"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs the smoke mode and checks it produced sane figures (not
// timings): every request succeeded, counts are positive, percentiles ordered,
// streams counted their events, and the report renders every scenario.
func TestSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := RunSmoke(ctx, t.TempDir(), testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range rep.Measured {
		switch m.Scenario.ID {
		case "memory":
			r := m.Runs[SmokeTarget]
			if len(r) != 1 || r[0].Errors != 0 || r[0].Done != 2*SmokeSizes.OpenConns || !(r[0].Metrics["base_mib"] > 0) {
				t.Errorf("memory scenario: %+v", r)
			}
			continue
		case "streams10k":
			r := m.Runs[SmokeTarget]
			if len(r) != 1 || r[0].Errors != 0 || r[0].Metrics["streams"] != float64(SmokeSizes.Streams) || len(m.Runs[Baseline]) != 0 {
				t.Errorf("open streams scenario: %+v", m.Runs)
			}
			continue
		}
		for _, target := range []string{Baseline, "airlock-inproc"} {
			checkSane(t, m, target)
		}
	}
	md := rep.Markdown()
	for _, want := range []string{"rps_c16", "stream", "stream_c1", "stream_paced", "stream_paced_c1", "bigprompt", "newconn", "claudecode", "streams10k"} {
		if _, ok := rep.find(want); !ok {
			t.Errorf("scenario %s missing", want)
		}
	}
	if !strings.Contains(md, "| airlock-inproc |") || !strings.Contains(md, "× |") {
		t.Errorf("report lacks the Airlock rows or ratios:\n%s", md)
	}
	if os.Getenv("BENCH_SMOKE_OUT") != "" {
		os.WriteFile(os.Getenv("BENCH_SMOKE_OUT"), []byte(md), 0o644)
	}
}

func checkSane(t *testing.T, m Measured, target string) {
	t.Helper()
	runs := m.Runs[target]
	if len(runs) == 0 || m.Errors(target) != 0 || runs[0].Done == 0 {
		t.Fatalf("%s/%s: runs %+v", m.Scenario.ID, target, runs)
	}
	r := runs[0].Metrics
	if !(r["rps"] > 0) || !(r["p50"] > 0) || !(r["p99"] >= r["p50"]) {
		t.Errorf("%s/%s: rps %v p50 %v p99 %v", m.Scenario.ID, target, r["rps"], r["p50"], r["p99"])
	}
	if m.Scenario.ID == "stream" && (!(r["events_per_s"] > 0) || !(r["ttfe_p50"] > 0) || r["ttfe_p50"] > r["p50"] || math.IsNaN(r["event_us"])) {
		t.Errorf("%s: stream figures %v", target, r)
	}
	// The fake paces these answers: a whole one takes longer than its deltas' pauses.
	if strings.HasPrefix(m.Scenario.ID, "stream_paced") && !(r["p50"] >= float64(SmokeSizes.PacedEvents*pacedEventMS)) {
		t.Errorf("%s/%s: a paced answer took %v ms", m.Scenario.ID, target, r["p50"])
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
