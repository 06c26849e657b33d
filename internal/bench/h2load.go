package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// H2Load drives non-streamed requests with nghttp2's h2load (HTTP/1.1,
// keep-alive), the well-known tool, as a cross-check of the Go load generator:
// it costs far less CPU per request, which matters when all share 2 cores.
type H2Load struct {
	Concurrency      int
	Warmup, Duration time.Duration
	Body             []byte
	Dir              string // where the body file is written
}

var (
	h2Finished = regexp.MustCompile(`finished in [0-9.]+s, ([0-9.]+) req/s`)
	h2Requests = regexp.MustCompile(`requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored`)
	h2Mean     = regexp.MustCompile(`time for request:\s+\S+\s+\S+\s+(\S+)`)
)

// Args is the h2load command line for target t (without the program name).
func (h H2Load) Args(t Target, bodyFile string) []string {
	return []string{"--h1", "-c", strconv.Itoa(h.Concurrency), "-D", fmt.Sprintf("%.0f", h.Duration.Seconds()),
		"--warm-up-time=" + fmt.Sprintf("%dms", h.Warmup.Milliseconds()), "--connect-to=" + t.Addr, "-d", bodyFile,
		"-H", "x-api-key: " + t.Key, "-H", "content-type: application/json", "-H", "anthropic-version: 2023-06-01",
		"https://" + t.serverName() + "/v1/messages"}
}

// Run runs h2load against t: rps and the mean latency (h2load prints no percentiles).
func (h H2Load) Run(ctx context.Context, t Target) Result {
	res := Result{Metrics: map[string]float64{}}
	bodyFile := filepath.Join(h.Dir, "h2load-body.json")
	if err := os.WriteFile(bodyFile, h.Body, 0o644); err != nil {
		res.Errors, res.Failure = 1, err.Error()
		return res
	}
	out, err := exec.CommandContext(ctx, "h2load", h.Args(t, bodyFile)...).CombinedOutput()
	if err != nil {
		res.Errors, res.Failure = 1, fmt.Sprintf("h2load: %v: %s", err, tail(out))
		return res
	}
	return parseH2Load(string(out))
}

func parseH2Load(out string) Result {
	res := Result{Metrics: map[string]float64{}}
	m, r, mean := h2Finished.FindStringSubmatch(out), h2Requests.FindStringSubmatch(out), h2Mean.FindStringSubmatch(out)
	if m == nil || r == nil || mean == nil {
		res.Errors, res.Failure = 1, "unexpected h2load output: "+tail([]byte(out))
		return res
	}
	res.Metrics["rps"], _ = strconv.ParseFloat(m[1], 64)
	res.Done, _ = strconv.Atoi(r[1])
	failed, _ := strconv.Atoi(r[2])
	errored, _ := strconv.Atoi(r[3])
	res.Errors = failed + errored
	res.Metrics["mean"] = durationMs(mean[1])
	return res
}

// durationMs parses h2load's "2.59ms", "97us" or "1.2s".
func durationMs(s string) float64 {
	for _, u := range []struct {
		suffix string
		ms     float64
	}{{"us", 0.001}, {"ms", 1}, {"s", 1000}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f * u.ms
			}
		}
	}
	return 0
}

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 500 {
		s = s[len(s)-500:]
	}
	return s
}
