package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/audit"
)

// Result is what a client did.
type Result struct {
	Code   int
	Stdout string
	Stderr string
}

// JSON decodes the client's stdout (the SDK clients print one JSON line).
func (r Result) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Stdout), v); err != nil {
		t.Fatalf("client output is not JSON: %v\nstdout: %s\nstderr: %s", err, r.Stdout, r.Stderr)
	}
}

// Run runs an unmodified client (a program on PATH or a path) inside the
// test's cgroup and a private mount namespace where api.anthropic.com is the
// loopback target and the CA is trusted only through `airlock trust install`.
// It fails t only on a harness error; the client's own failure is in Code.
func (h *Harness) Run(t testing.TB, name string, args ...string) Result {
	t.Helper()
	return h.RunEnv(t, nil, name, args...)
}

// RunEnv is Run with extra NAME=VALUE variables for the client.
func (h *Harness) RunEnv(t testing.TB, env []string, name string, args ...string) Result {
	t.Helper()
	sandbox := []string{"--cgroup", h.Cgroup, "--layer", h.trustLayer(t)}
	for _, kv := range env {
		sandbox = append(sandbox, "--env", kv)
	}
	sandbox = append(append(sandbox, "--", name), args...)
	res := h.exec(t, bins.Sandbox, sandbox...)
	if res.Code == 97 {
		t.Fatalf("sandbox: trust install failed:\n%s", res.Stderr)
	}
	return res
}

// trustLayer is the sandbox layer trusting this daemon's CA (prepared on
// first use for a test with its own CA).
func (h *Harness) trustLayer(t testing.TB) string {
	t.Helper()
	if h.layer == "" {
		layer, err := layerFor(h.Dir, h.ConfigFile)
		if err != nil {
			t.Fatalf("trust install: %v", err)
		}
		h.layer = layer
	}
	return h.layer
}

// GoSDK runs the Go SDK client (e2e/testdata/gosdk) in mode message|stream|tools.
func (h *Harness) GoSDK(t testing.TB, mode, prompt string) Result {
	t.Helper()
	return h.Run(t, bins.GoSDK, mode, prompt)
}

// Airlock runs the operator CLI against this harness's daemon.
func (h *Harness) Airlock(t testing.TB, args ...string) Result {
	t.Helper()
	return h.exec(t, bins.Airlock, append([]string{"--config", h.ConfigFile}, args...)...)
}

// Audit returns the daemon's audit records, oldest first (`airlock audit list --json`).
func (h *Harness) Audit(t testing.TB) []audit.Record {
	t.Helper()
	res := h.Airlock(t, "audit", "list", "--json")
	if res.Code != 0 {
		t.Fatalf("airlock audit list: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	var recs []audit.Record
	if err := json.Unmarshal([]byte(res.Stdout), &recs); err != nil {
		t.Fatalf("airlock audit list --json: %v\n%s", err, res.Stdout)
	}
	return recs
}

// exec runs a command with the hang guard; a harness failure (no answer in
// time, not startable) fails the test.
func (h *Harness) exec(t testing.TB, name string, args ...string) Result {
	t.Helper()
	res, err := runCmd(h.opts.Timeout, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstderr: %s\ndaemon log:\n%s", name, strings.Join(args, " "), err, res.Stderr, h.Log())
	}
	return res
}

// runCmd runs a command in its own process group, so that the timeout kills
// the whole tree. The error is the harness's (timeout, not startable); a
// command that ran and failed is only a non-zero Code.
func runCmd(timeout time.Duration, name string, args ...string) (Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("no answer within %v", timeout)
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
		return res, nil
	}
	return res, err
}

// runNoFatal is runCmd for another goroutine: harness errors become Code -1.
func runNoFatal(timeout time.Duration, name string, args ...string) Result {
	res, err := runCmd(timeout, name, args...)
	if err != nil {
		res.Code, res.Stderr = -1, res.Stderr+err.Error()
	}
	return res
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Background runs a client like Run without waiting: wait returns its Result.
func (h *Harness) Background(t testing.TB, name string, args ...string) (wait func() Result) {
	t.Helper()
	done := make(chan Result, 1)
	sandbox := append([]string{"--cgroup", h.Cgroup, "--layer", h.layer, "--", name}, args...)
	go func() { done <- runNoFatal(h.opts.Timeout, bins.Sandbox, sandbox...) }()
	return func() Result { return <-done }
}
