package bench

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Result is one run of one scenario against one target. Metrics holds the
// figures by name (rps, p50_ms, ttfe_p50_ms, ...).
type Result struct {
	Metrics map[string]float64
	Errors  int
	Done    int
	Took    time.Duration
	Failure string // the first error, for the progress log
}

// percentile returns the p-th percentile (0..100) of sorted durations, in ms.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return ms(sorted[max(0, min(i, len(sorted)-1))])
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Summary is a metric over several runs: the median and the spread (min, max).
type Summary struct {
	Median, Min, Max float64
	N                int
}

// Summarize reduces the runs' values of one metric.
func Summarize(values []float64) Summary {
	var v []float64
	for _, x := range values {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Summary{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	slices.Sort(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return Summary{Median: med, Min: v[0], Max: v[len(v)-1], N: len(v)}
}

// String prints the median with the spread as a ± half-range percentage.
func (s Summary) String() string {
	if math.IsNaN(s.Median) {
		return "n/a"
	}
	if s.N < 2 || s.Median == 0 {
		return format(s.Median)
	}
	return fmt.Sprintf("%s ±%.0f%%", format(s.Median), 100*(s.Max-s.Min)/2/math.Abs(s.Median))
}

func format(x float64) string {
	switch ax := math.Abs(x); {
	case ax >= 1000:
		return fmt.Sprintf("%.0f", x)
	case ax >= 10:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.3g", x)
	}
}
