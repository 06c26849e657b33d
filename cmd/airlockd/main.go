// Command airlockd is Airlock's host daemon: it loads the configuration, then
// starts, in a safe order, the CA, the managed credentials, the policy, the
// audit store, the gateway, the TLS server, the capture listener and its eBPF
// hooks, and the admin API; it tells systemd when it is ready, reloads on
// SIGHUP and drains in-flight streams on SIGTERM.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/airlock-dev/airlock/internal/config"
	"github.com/airlock-dev/airlock/internal/daemon"
	"github.com/airlock-dev/airlock/policy"
)

// Exit codes: 0 clean stop, 1 a startup or runtime failure, 2 bad config or usage.
const (
	exitOK      = 0
	exitFailure = 1
	exitConfig  = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := pflag.NewFlagSet("airlockd", pflag.ContinueOnError)
	config.RegisterFlags(fs)
	check := fs.Bool("check", false, "validate the configuration and exit")
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	src := config.Source{Flags: fs}
	cfg, err := config.Load(src)
	if err != nil {
		printConfigError(stderr, err)
		return exitConfig
	}
	if *check {
		return checkOnly(cfg, stderr)
	}
	return serve(cfg, src, stderr)
}

// serve runs the daemon until a signal stops it.
func serve(cfg *config.Config, src config.Source, stderr io.Writer) int {
	log, level, err := newLogger(cfg.Log, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "airlockd: %v\n", err)
		return exitConfig
	}
	defer log.Sync() //nolint:errcheck // stderr sync errors are meaningless
	d := daemon.New(cfg, daemon.Options{Log: log, Level: level})
	if err := d.Start(context.Background()); err != nil {
		fmt.Fprintf(stderr, "airlockd: %s\n", oneLine(err))
		return exitFailure
	}
	w := &waiter{d: d, src: src, log: log, done: make(chan struct{})}
	w.notifyReady()
	if err := w.wait(); err != nil {
		fmt.Fprintf(stderr, "airlockd: %s\n", oneLine(err))
		return exitFailure
	}
	return exitOK
}

// checkOnly is --check (the unit's ExecStartPre): the configuration and the
// policy file it names, without starting anything.
func checkOnly(cfg *config.Config, stderr io.Writer) int {
	if path := cfg.Policy.PolicyPath(); path != "" {
		if ps := policy.CheckFile(path); len(ps) > 0 {
			fmt.Fprintf(stderr, "airlockd: policy %s is invalid:\n", path)
			for _, p := range ps {
				fmt.Fprintf(stderr, "  - line %s\n", p)
			}
			return exitConfig
		}
	}
	fmt.Fprintln(stderr, "airlockd: configuration is valid")
	return exitOK
}

// printConfigError lists every configuration problem on its own line.
func printConfigError(w io.Writer, err error) {
	fmt.Fprintln(w, "airlockd: invalid configuration:")
	for _, e := range flatten(err) {
		fmt.Fprintf(w, "  - %v\n", e)
	}
	fmt.Fprintln(w, "fix the keys above (airlockd --check validates without starting)")
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// oneLine keeps an error to a single line: the first line of a multi-line
// error carries the reason, the rest is detail for the log.
func oneLine(err error) string {
	var se *daemon.StartupError
	if errors.As(err, &se) {
		return firstLine(se.Error())
	}
	return firstLine(err.Error())
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i] + " …"
		}
	}
	return s
}
