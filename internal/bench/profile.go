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

// profileAirlock profiles Airlock's data path (masking and audit on) in its
// own process under the c16, streaming and big-prompt loads, and returns the
// hottest cumulative entries of `go tool pprof -top -cum` that name a cost
// (Airlock's packages, SQLite, gzip, the HTTP/2 client, TLS, the reverse proxy).
func (f *full) profileAirlock(ctx context.Context) {
	if _, err := exec.LookPath("go"); err != nil {
		f.note("no go toolchain on PATH: the CPU profile was not taken")
		return
	}
	dir, prof := filepath.Join(f.opts.Dir, "profile"), filepath.Join(f.opts.Dir, "airlock.pprof")
	addr, err := FreePort()
	if err != nil {
		return
	}
	argv := []string{f.opts.Self, "serve-airlock", "-listen", addr, "-dir", dir, "-upstream", f.env.Upstream,
		"-upstream-ca", f.env.UpstreamCA, "-key", ManagedKey, "-cpuprofile", prof}
	os.MkdirAll(dir, 0o700)
	p, err := StartProc(f.opts.Dir, "airlock-profiled", nil, argv...)
	if err != nil || waitFile(ctx, p, filepath.Join(dir, "airlock-ca.pem")) != nil {
		f.note("profiling run did not start: %v", err)
		return
	}
	roots, _ := LoadRoots(filepath.Join(dir, "airlock-ca.pem"), f.env.UpstreamCA)
	t := Target{Name: "profiled", Addr: addr, Roots: roots, Key: EmbeddedKey}
	for _, l := range profileLoads() {
		l.Run(ctx, t)
	}
	p.Stop(10 * time.Second)
	f.rep.Profile = topCum(f.opts.Self, prof)
	f.command(strings.Join(argv, " ") + " &   # then the c16, stream and 200 KB loads, then SIGTERM")
	f.command("go tool pprof -top -cum " + f.opts.Self + " " + prof)
}

func profileLoads() []Load {
	d := 3 * time.Second
	return []Load{
		{Concurrency: 16, Duration: d, Body: SmallBody},
		{Concurrency: 4, Duration: d, Stream: true, Body: StreamBody, Header: StreamHeader(200, 20)},
		{Concurrency: 4, Duration: d, Body: BigBody(200 << 10)},
	}
}

// costNames are the frames worth showing in the report.
var costNames = []string{"airlock-dev/airlock/", "sqlite.(*conn).step", "compress/gzip", "httputil.(*ReverseProxy)",
	"http2clientStream).writeRequest", "http2ClientConn).readLoop", "crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Read",
	"runtime.gcBgMarkWorker", "runtime.mallocgc", "net/http.(*conn).serve"}

// costGroups attribute the profile to Airlock's parts: the share of a group
// is the sum of its entry frames' cumulative shares (each runs on its own
// goroutine, so they do not nest).
var costGroups = []struct {
	name   string
	frames []string
}{
	{"masking the request (policy/mask walk)", []string{"mask.(*Masker).Request"}},
	{"masking the response (JSON buffering and SSE stream)", []string{"gateway.(*Gateway).bufferJSON", "gateway.(*sseTransform).write"}},
	{"audit: recording compression and insert (request goroutine)", []string{"audit.(*Store).Write"}},
	{"audit: SQLite commits (writer goroutine)", []string{"audit.(*Store).writer"}},
	{"policy decision (CEL)", []string{"policy.(*Engine).Decide"}},
	{"upstream HTTP/2 client (write request, read loop)", []string{"http2clientStream).writeRequest", "http2ClientConn).readLoop"}},
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

func sharesTable(out string) string {
	sh := shares(out)
	var b strings.Builder
	b.WriteString("| part of Airlock | share of its CPU |\n| --- | ---: |\n")
	for _, g := range costGroups {
		fmt.Fprintf(&b, "| %s | %.0f%% |\n", g.name, sh[g.name])
	}
	return b.String()
}

func topCum(bin, prof string) string {
	out, err := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=300", bin, prof).Output()
	if err != nil {
		return fmt.Sprintf("go tool pprof failed: %v", err)
	}
	return sharesTable(string(out)) + "\n```\n" + filterTop(string(out)) + "\n```"
}

func filterTop(out string) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case strings.Contains(line, "Total samples"):
			keep = append(keep, strings.TrimSpace(line), "cum     cum%   function")
		case len(keep) < 40 && len(f) >= 6 && containsAny(line, costNames):
			keep = append(keep, fmt.Sprintf("%-7s %-6s %s", f[3], f[4], strings.Join(f[5:], " ")))
		}
	}
	return strings.Join(keep, "\n")
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func endsWithAny(s string, suffixes []string) bool {
	for _, suf := range suffixes {
		if strings.HasSuffix(s, suf) {
			return true
		}
	}
	return false
}
