package bench

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Metric is one figure a scenario reports.
type Metric struct {
	Key, Label   string
	HigherBetter bool
}

// Scenario is one measurement, run against every target.
type Scenario struct {
	ID, Title, Note string
	Metrics         []Metric
	Run             func(ctx context.Context, t Target) Result
	Skip            func(t Target) bool // targets the scenario does not apply to
	Runs            int                 // runs of this scenario when fewer than the suite's (0: the suite's)
	NoProfile       bool                // not a load worth a CPU profile (memory, open streams)
}

// Measured is everything one scenario produced: per target, every run.
type Measured struct {
	Scenario Scenario
	Runs     map[string][]Result // by target name
}

// Suite runs scenarios against targets, interleaving the targets within each
// run so that drift on a shared machine hits them alike.
type Suite struct {
	Targets   []Target
	Scenarios []Scenario
	Runs      int
	Progress  io.Writer
}

// Run executes the suite; a cancelled ctx stops it between measurements.
func (s Suite) Run(ctx context.Context) []Measured {
	var out []Measured
	for _, sc := range s.Scenarios {
		m := Measured{Scenario: sc, Runs: map[string][]Result{}}
		runs := s.Runs
		if sc.Runs > 0 {
			runs = min(runs, sc.Runs)
		}
		for run := range runs {
			for _, t := range s.Targets {
				if ctx.Err() != nil || (sc.Skip != nil && sc.Skip(t)) {
					continue
				}
				r := s.measure(ctx, sc, t)
				m.Runs[t.Name] = append(m.Runs[t.Name], r)
				fmt.Fprintf(s.Progress, "%-12s %-10s run %d: %s\n", sc.ID, t.Name, run+1, brief(sc, r))
			}
		}
		out = append(out, m)
	}
	return out
}

func (s Suite) measure(ctx context.Context, sc Scenario, t Target) Result {
	if t.Enter != nil {
		leave, err := t.Enter()
		if err != nil {
			return Result{Errors: 1, Metrics: map[string]float64{}}
		}
		defer leave()
	}
	begin := time.Now()
	r := sc.Run(ctx, t)
	r.Took = time.Since(begin)
	return r
}

func brief(sc Scenario, r Result) string {
	s := ""
	for _, m := range sc.Metrics {
		if v, ok := r.Metrics[m.Key]; ok {
			s += fmt.Sprintf("%s=%s ", m.Key, format(v))
		}
	}
	s = fmt.Sprintf("%sok=%d errors=%d (%.1fs)", s, r.Done, r.Errors, r.Took.Seconds())
	if r.Failure != "" {
		s += " first error: " + r.Failure
	}
	return s
}

// Summary of one metric for one target across runs.
func (m Measured) Summary(target, key string) Summary {
	var v []float64
	for _, r := range m.Runs[target] {
		if x, ok := r.Metrics[key]; ok {
			v = append(v, x)
		}
	}
	return Summarize(v)
}

// Errors is the total of failed requests of target across runs.
func (m Measured) Errors(target string) int {
	n := 0
	for _, r := range m.Runs[target] {
		n += r.Errors
	}
	return n
}
