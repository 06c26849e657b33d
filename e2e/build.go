// Package e2e runs Airlock end to end with real, unmodified clients: it builds
// airlockd and airlock once, starts the fake Claude API in-process, starts
// airlockd as a subprocess attached to a child cgroup it creates, and runs
// clients (curl, the Go SDK, the TypeScript SDK) inside that cgroup and a
// private mount namespace (sandbox.sh, shared with `make demo`).
//
//	h := e2e.Start(t, e2e.Options{})
//	res := h.Run(t, "curl", "-sS", "https://api.anthropic.com/v1/messages", ...)
//	got := h.Upstream.Requests() // what the fake API received
//	recs := h.Audit(t)           // what the audit store says
//
// Tests in this package need root; with AIRLOCK_REQUIRE_PRIVILEGED=1 they fail
// instead of skipping.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Binaries are the programs the harness built for this test run.
type Binaries struct {
	Dir      string // where they were built; removed after the tests
	Airlockd string
	Airlock  string
	GoSDK    string // e2e/testdata/gosdk: the Go SDK client
	Sandbox  string // e2e/sandbox.sh
	NodeDir  string // npm ci'd @anthropic-ai/sdk and client.mjs; "" when unavailable
	NodeErr  string // why NodeDir is empty
}

// bins is set once by Main; every test of the package shares it.
var bins Binaries

// Main builds the binaries into a temporary directory, runs the tests and
// removes the directory. Call it from TestMain: os.Exit(e2e.Main(m)).
func Main(m *testing.M) int {
	dir, err := os.MkdirTemp("", "airlock-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := build(dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building:", err)
		return 1
	}
	return m.Run()
}

func build(dir string) error {
	root := moduleRoot()
	bins = Binaries{
		Dir:      dir,
		Airlockd: filepath.Join(dir, "airlockd"),
		Airlock:  filepath.Join(dir, "airlock"),
		GoSDK:    filepath.Join(dir, "gosdk"),
		Sandbox:  filepath.Join(root, "e2e", "sandbox.sh"),
	}
	cmd := exec.Command("go", "build", "-o", dir+"/", "./cmd/airlockd", "./cmd/airlock")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, b)
	}
	cmd = exec.Command("go", "build", "-o", bins.GoSDK, "./e2e/testdata/gosdk")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, b)
	}
	bins.NodeDir, bins.NodeErr = nodeClients(root)
	return nil
}

// moduleRoot is the repository root (this file's directory's parent).
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}
