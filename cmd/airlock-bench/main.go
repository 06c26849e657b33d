// Command airlock-bench runs Airlock's benchmarks and writes BENCHMARKS.md.
//
//	airlock-bench run -out BENCHMARKS.md -airlockd bin/airlockd   # the full suite (make bench)
//	airlock-bench run -smoke -out /tmp/smoke.md                    # direct and in-process Airlock, seconds
//
// It also serves the pieces the full suite runs as separate processes:
//
//	airlock-bench serve-fake -listen ADDR -dir DIR -key KEY
//	airlock-bench serve-airlock -listen ADDR -dir DIR -upstream ADDR -upstream-ca FILE -key KEY [-no-masking]
//	airlock-bench serve-go-proxy -listen ADDR -upstream ADDR -upstream-ca FILE -cert FILE -cert-key FILE -key KEY
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/airlock-dev/airlock/internal/bench"
	"github.com/airlock-dev/airlock/internal/fakeapi"
)

func main() {
	cmd, args := "run", os.Args[1:]
	if len(args) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "run":
		err = run(args)
	case "serve-fake":
		err = serveFake(args)
	case "serve-airlock":
		err = serveAirlock(args)
	case "serve-go-proxy":
		err = serveGoProxy(args)
	default:
		err = fmt.Errorf("unknown command %q (run, serve-fake, serve-airlock, serve-go-proxy)", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "airlock-bench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	out := fs.String("out", "BENCHMARKS.md", "the report to write")
	smoke := fs.Bool("smoke", false, "direct and in-process Airlock only, a few seconds")
	airlockd := fs.String("airlockd", "", "the airlockd binary (measured through the eBPF capture path)")
	runs := fs.Int("runs", 3, "runs per measurement (the report shows medians and spread)")
	duration := fs.Duration("duration", bench.FullSizes.Duration, "measured time per run")
	peers := fs.Bool("peers", true, "measure nginx and mitmproxy when installed")
	limit := fs.Duration("limit", 14*time.Minute, "stop measuring after this long")
	only := fs.String("only", "", "comma-separated configurations besides direct (airlock,airlock-netns,airlock-lean,go-proxy,nginx,mitmproxy)")
	profile := fs.Bool("profile", true, "profile Airlock's data path per scenario after the measurements (needs go on PATH)")
	profileDir := fs.String("profile-dir", "", "keep each scenario's CPU and allocation profiles here (default: the scratch directory, removed)")
	sel := fs.String("scenarios", "", "comma-separated scenario ids (default: all; an unknown id is refused with the list, which the report's sections also show)")
	fs.Parse(args)
	ctx, cancel := signalContext(*limit)
	defer cancel()
	dir, err := os.MkdirTemp("", "airlock-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var rep *bench.Report
	if *smoke {
		rep, err = bench.RunSmoke(ctx, dir, os.Stderr)
	} else {
		rep, err = runFull(ctx, bench.FullOptions{Dir: dir, Airlockd: *airlockd, Runs: *runs, Peers: *peers,
			Only: split(*only), Select: split(*sel), Profile: *profile, ProfileDir: *profileDir, Progress: os.Stderr}, *duration)
	}
	if err != nil {
		return err
	}
	first := []string{"airlock-bench " + joinArgs(os.Args[1:])}
	if !*smoke {
		first = append([]string{"make bench   # scripts/bench.sh: apt-get install nginx-light mitmproxy nghttp2-client when missing, go build bin/airlockd bin/airlock-bench, then:"}, first...)
	}
	rep.Commands = append(first, rep.Commands...)
	return os.WriteFile(*out, []byte(rep.Markdown()), 0o644)
}

func runFull(ctx context.Context, opts bench.FullOptions, d time.Duration) (*bench.Report, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	opts.Self, opts.Sizes = self, bench.FullSizes
	opts.Sizes.Duration, opts.Sizes.H2LoadDir = d, opts.Dir
	return bench.RunFull(ctx, opts)
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func joinArgs(args []string) string {
	s := ""
	for i, a := range args {
		if i > 0 {
			s += " "
		}
		s += a
	}
	return s
}

func signalContext(limit time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	return ctx, func() { stop(); cancel() }
}

func serveFake(args []string) error {
	fs := flag.NewFlagSet("serve-fake", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address")
	dir := fs.String("dir", "", "where to write fakeapi-ca.pem")
	key := fs.String("key", bench.ManagedKey, "the accepted API key")
	fs.Parse(args)
	r, err := fakeapi.StartTLSAt(fakeapi.Config{APIKeys: []string{*key}, NoRecord: true}, *listen, *dir)
	if err != nil {
		return err
	}
	defer r.Close()
	return waitSignal("fake API", r.Addr)
}

func serveAirlock(args []string) error {
	fs := flag.NewFlagSet("serve-airlock", flag.ExitOnError)
	var cfg bench.AirlockConfig
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:0", "address")
	fs.StringVar(&cfg.Dir, "dir", "", "state directory (CA, audit)")
	fs.StringVar(&cfg.Upstream, "upstream", "", "the fake API's host:port")
	fs.StringVar(&cfg.UpstreamCAFile, "upstream-ca", "", "the fake API's CA")
	fs.StringVar(&cfg.ManagedKey, "key", bench.ManagedKey, "the managed API key")
	fs.BoolVar(&cfg.NoMasking, "no-masking", false, "switch off every masking detector but the managed key's")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile here until stopped (go tool pprof)")
	allocProfile := fs.String("allocprofile", "", "write an allocation profile here when stopped (go tool pprof -sample_index=alloc_space)")
	fs.Parse(args)
	if *cpuProfile != "" {
		stop, err := startProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if *allocProfile != "" {
		defer writeAllocs(*allocProfile)
	}
	a, err := bench.StartAirlock(context.Background(), cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	return waitSignal("airlock", a.Addr)
}

// serveGoProxy runs the reference configuration: Go's ReverseProxy alone.
func serveGoProxy(args []string) error {
	fs := flag.NewFlagSet("serve-go-proxy", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address")
	upstream := fs.String("upstream", "", "the fake API's host:port")
	upstreamCA := fs.String("upstream-ca", "", "the fake API's CA")
	certFile := fs.String("cert", "", "the certificate to serve (PEM)")
	keyFile := fs.String("cert-key", "", "its private key (PEM)")
	key := fs.String("key", bench.ManagedKey, "the API key put on every request")
	fs.Parse(args)
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv, err := bench.GoProxy(l, cert, *upstream, *upstreamCA, *key)
	if err != nil {
		l.Close()
		return err
	}
	defer srv.Close()
	return waitSignal("go-proxy", l.Addr().String())
}

func waitSignal(what, addr string) error {
	fmt.Printf("%s listening on %s\n", what, addr)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	return nil
}

// writeAllocs writes every allocation sampled since the start.
func writeAllocs(path string) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "airlock-bench: allocation profile:", err)
		return
	}
	defer f.Close()
	pprof.Lookup("allocs").WriteTo(f, 0)
}

func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
