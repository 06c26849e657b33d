package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// profileAirlock profiles Airlock's data path (masking and audit on, the
// daemon's assembly in its own process) once per load scenario: a fresh
// process per scenario, so each CPU and allocation profile is that load's
// alone. The files are kept in ProfileDir for `go tool pprof`.
func (f *full) profileAirlock(ctx context.Context) {
	if _, err := exec.LookPath("go"); err != nil {
		f.note("no go toolchain on PATH: the profiles were not taken")
		return
	}
	dir := f.opts.ProfileDir
	if dir == "" {
		dir = filepath.Join(f.opts.Dir, "profiles")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.note("profiles not taken: %v", err)
		return
	}
	for _, sc := range f.opts.scenarios() {
		if !sc.NoProfile && ctx.Err() == nil {
			f.profileScenario(ctx, sc, dir)
		}
	}
	f.command(fmt.Sprintf("%s serve-airlock ... -cpuprofile %s/<scenario>.cpu.pprof -allocprofile %s/<scenario>.alloc.pprof &   # one per scenario: its load, then SIGTERM", f.opts.Self, dir, dir))
	f.command("go tool pprof -top [-cum | -sample_index=alloc_space] " + f.opts.Self + " " + dir + "/<scenario>.{cpu,alloc}.pprof")
}

// profileScenario runs sc's load against a profiled Airlock.
func (f *full) profileScenario(ctx context.Context, sc Scenario, dir string) {
	cpu, allocs := filepath.Join(dir, sc.ID+".cpu.pprof"), filepath.Join(dir, sc.ID+".alloc.pprof")
	state := filepath.Join(f.opts.Dir, "profile-"+sc.ID)
	addr, err := FreePort()
	if err != nil {
		return
	}
	argv := []string{f.opts.Self, "serve-airlock", "-listen", addr, "-dir", state, "-upstream", f.env.Upstream,
		"-upstream-ca", f.env.UpstreamCA, "-key", ManagedKey, "-cpuprofile", cpu, "-allocprofile", allocs}
	os.MkdirAll(state, 0o700)
	p, err := StartProc(f.opts.Dir, "airlock-profiled-"+sc.ID, DeployedEnv, argv...)
	if err != nil || waitFile(ctx, p, filepath.Join(state, "airlock-ca.pem")) != nil {
		f.note("profiling %s did not start: %v", sc.ID, err)
		return
	}
	roots, _ := LoadRoots(filepath.Join(state, "airlock-ca.pem"), f.env.UpstreamCA)
	sc.Run(ctx, Target{Name: "profiled", Addr: addr, Roots: roots, Key: EmbeddedKey})
	p.Stop(10 * time.Second)
	f.rep.Profiles = append(f.rep.Profiles, ScenarioProfile{ID: sc.ID, Title: sc.Title, CPUFile: cpu, AllocFile: allocs,
		Cum: pprofTop(f.opts.Self, cpu, "-cum", "-nodecount=300"), CPU: pprofTop(f.opts.Self, cpu, "-nodecount=15"),
		Alloc: pprofTop(f.opts.Self, allocs, "-sample_index=alloc_space", "-nodecount=15")})
}

// ScenarioProfile is one scenario's profiles: pprof's -top outputs.
type ScenarioProfile struct {
	ID, Title          string
	CPUFile, AllocFile string
	Cum, CPU, Alloc    string
}

func pprofTop(bin, prof string, args ...string) string {
	argv := append(append([]string{"tool", "pprof", "-top"}, args...), bin, prof)
	out, err := exec.Command("go", argv...).Output()
	if err != nil {
		return fmt.Sprintf("go tool pprof failed: %v", err)
	}
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.HasPrefix(l, "File:") && !strings.HasPrefix(l, "Build ID:") && !strings.HasPrefix(l, "Time:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// costGroups attribute the profile to Airlock's parts: the share of a group
// is the sum of its entry frames' cumulative shares (each runs on its own
// goroutine, so they do not nest).
var costGroups = []struct {
	name   string
	frames []string
}{
	{"masking the request (policy/mask walk)", []string{"mask.Scoped.Request"}},
	{"masking the response (JSON buffering and SSE stream)", []string{"gateway.(*Gateway).bufferJSON", "gateway.(*sseTransform).write"}},
	{"audit: encoding and spooling the record (request goroutine)", []string{"audit.(*Store).Write", "audit.(*Store).Append"}},
	{"audit: compression and SQLite commits (writer goroutine)", []string{"audit.(*Store).writer"}},
	{"policy decision (CEL)", []string{"policy.(*Engine).Decide"}},
	{"upstream HTTP client (HTTP/2 or HTTP/1.1 write and read loops)", []string{"http2clientStream).writeRequest", "http2ClientConn).readLoop",
		"persistConn).writeLoop", "persistConn).readLoop"}},
	{"garbage collection", []string{"runtime.gcBgMarkWorker"}},
}

// shares sums each group's entry frames' cum% in pprof's -top -cum output.
func shares(out string) map[string]float64 {
	cum := map[string]float64{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 {
			var v float64
			fmt.Sscanf(strings.TrimSuffix(f[4], "%"), "%g", &v)
			cum[strings.Join(f[5:], " ")] = v
		}
	}
	res := map[string]float64{}
	for _, g := range costGroups {
		for name, v := range cum {
			if endsWithAny(strings.TrimSuffix(name, " (inline)"), g.frames) {
				res[g.name] += v
			}
		}
	}
	return res
}

// writeProfiles is the report's section: a table of each part's share of
// the CPU per scenario, then each scenario's top 15 CPU and allocation sites.
func (r *Report) writeProfiles(b *strings.Builder) {
	if len(r.Profiles) == 0 {
		return
	}
	b.WriteString("## Where Airlock's time goes, per scenario\n\nAfter the measurements, each load scenario runs once more against the daemon's assembly (masking and audit on) in its own process with the CPU and allocation profilers on; the files stay where the last command below says. The table sums, per scenario, the cumulative share of the CPU samples of each part's entry frames (they run on separate goroutines, so they do not nest); the rest is TLS, HTTP parsing and copying.\n\n| part of Airlock |")
	for _, p := range r.Profiles {
		b.WriteString(" " + p.ID + " |")
	}
	b.WriteString("\n| --- |" + strings.Repeat(" ---: |", len(r.Profiles)) + "\n")
	all := make([]map[string]float64, len(r.Profiles))
	for i, p := range r.Profiles {
		all[i] = shares(p.Cum)
	}
	for _, g := range costGroups {
		b.WriteString("| " + g.name + " |")
		for i := range r.Profiles {
			fmt.Fprintf(b, " %.0f%% |", all[i][g.name])
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	for _, p := range r.Profiles {
		fmt.Fprintf(b, "<details><summary>%s: top 15 CPU (flat) and allocation sites</summary>\n\n```\n%s\n```\n\n```\n%s\n```\n\n</details>\n\n", p.Title, p.CPU, p.Alloc)
	}
}

func endsWithAny(s string, suffixes []string) bool {
	for _, suf := range suffixes {
		if strings.HasSuffix(s, suf) {
			return true
		}
	}
	return false
}
