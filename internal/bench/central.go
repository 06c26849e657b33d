package bench

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/airlock-dev/airlock/internal/fakeapi"
)

// Names of the fleet comparison's targets.
const (
	LocalTarget   = "airlock-local"
	CentralTarget = "airlock-central"
)

// RunCentral measures what shipping the audit trail to a fleet's PostgreSQL
// costs a host: the same in-process Airlock with audit.central off and on,
// side by side in one run, on the non-streamed concurrency-16 scenario.
func RunCentral(ctx context.Context, dir, pgURL string, z Sizes, runs int, progress io.Writer) (*Report, error) {
	up, err := fakeapi.StartTLSAt(fakeapi.Config{APIKeys: []string{ManagedKey}, NoRecord: true}, "127.0.0.1:0", dir)
	if err != nil {
		return nil, err
	}
	defer up.Close()
	var targets []Target
	for _, t := range []struct{ name, url, label string }{
		{LocalTarget, "", "in-process Airlock (internal/daemon), audit in the local SQLite store only"},
		{CentralTarget, pgURL, "the same, with audit.central shipping every record to PostgreSQL"},
	} {
		sub := filepath.Join(dir, t.name)
		a, err := StartAirlock(ctx, AirlockConfig{Listen: "127.0.0.1:0", Dir: sub, Upstream: up.Addr,
			UpstreamCAFile: up.CAFile, ManagedKey: ManagedKey, Central: t.url})
		if err != nil {
			return nil, fmt.Errorf("starting %s: %w", t.name, err)
		}
		defer a.Close()
		roots, err := LoadRoots(up.CAFile, a.CAFile)
		if err != nil {
			return nil, err
		}
		targets = append(targets, Target{Name: t.name, Label: t.label, Addr: a.Addr, Roots: roots, Key: EmbeddedKey})
	}
	roots, err := LoadRoots(up.CAFile)
	if err != nil {
		return nil, err
	}
	targets = append([]Target{{Name: Baseline, Label: "client → fake API over TLS", Addr: up.Addr, Roots: roots, Key: ManagedKey}}, targets...)
	var sc []Scenario
	for _, s := range Scenarios(z) {
		if s.ID == "rps_c16" {
			sc = append(sc, s)
		}
	}
	s := Suite{Targets: targets, Scenarios: sc, Runs: runs, Progress: progress}
	return &Report{Generated: time.Now(), Mode: "central", Runs: runs, Machine: Machine(), Targets: targets,
		Measured: s.Run(ctx), Commands: []string{"go test ./internal/bench -run TestCentralOverhead (make bench sets BENCH_CENTRAL_OUT)"}}, nil
}

// CentralSummary is the fleet section of BENCHMARKS.md: the throughput with
// central shipping on as a share of the same Airlock without it.
func (r *Report) CentralSummary() string {
	local, central := r.median("rps_c16", LocalTarget, "rps"), r.median("rps_c16", CentralTarget, "rps")
	var b strings.Builder
	fmt.Fprintf(&b, "## Fleet: the cost of shipping the audit trail to PostgreSQL\n\n")
	fmt.Fprintf(&b, "Non-streamed requests at concurrency 16, median of %d runs, in one run: %s %.0f req/s, %s %.0f req/s: "+
		"**%.3f×** with central shipping on (the goal is a change under 5%%). The central sink's own throughput is "+
		"measured by `go test ./audit/central -run '^$' -bench Ship`.\n\n", r.Runs, LocalTarget, local, CentralTarget, central, central/local)
	return b.String()
}
