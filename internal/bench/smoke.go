package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/airlock-dev/airlock/internal/fakeapi"
)

// Fake credentials of the benchmark world.
const (
	ManagedKey  = "sk-ant-api03-FAKE-bench-managed-key-not-real" // what the fake API accepts
	EmbeddedKey = "sk-ant-api03-FAKE-bench-embedded-app-key"     // what applications behind a proxy send
)

// SmokeTarget is the smoke mode's Airlock.
const SmokeTarget = "airlock-inproc"

// RunSmoke measures direct and an in-process Airlock (TLS, gateway, masking,
// audit; no eBPF capture) for a few seconds: the mode `make test` runs.
func RunSmoke(ctx context.Context, dir string, progress io.Writer) (*Report, error) {
	up, err := fakeapi.StartTLSAt(fakeapi.Config{APIKeys: []string{ManagedKey}, NoRecord: true}, "127.0.0.1:0", dir)
	if err != nil {
		return nil, err
	}
	defer up.Close()
	a, err := StartAirlock(ctx, AirlockConfig{Listen: "127.0.0.1:0", Dir: dir, Upstream: up.Addr,
		UpstreamCAFile: up.CAFile, ManagedKey: ManagedKey})
	if err != nil {
		return nil, fmt.Errorf("starting the in-process Airlock: %w", err)
	}
	defer a.Close()
	roots, err := LoadRoots(up.CAFile, filepath.Join(dir, "airlock-ca.pem"))
	if err != nil {
		return nil, err
	}
	targets := []Target{
		{Name: Baseline, Label: "client → fake API over TLS", Addr: up.Addr, Roots: roots, Key: ManagedKey},
		{Name: SmokeTarget, Label: "client → in-process Airlock (airlockd's assembly from internal/daemon: TLS, gateway, policy, masking, audit; no capture) → fake API", Addr: a.Addr, Roots: roots, Key: EmbeddedKey,
			PIDs: func() []int { return []int{os.Getpid()} }}, // exercises the memory scenario; the figure includes the client
	}
	s := Suite{Targets: targets, Scenarios: Scenarios(SmokeSizes), Runs: 1, Progress: progress}
	return &Report{Generated: time.Now(), Mode: "smoke", Runs: 1, Machine: Machine(), Targets: targets,
		Measured: s.Run(ctx), Commands: []string{"go test ./internal/bench/ -run TestSmoke"}}, nil
}
