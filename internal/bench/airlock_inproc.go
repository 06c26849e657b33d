package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/internal/atomicfile"
	"github.com/airlock-dev/airlock/internal/config"
	"github.com/airlock-dev/airlock/internal/daemon"
	"github.com/airlock-dev/airlock/policy/mask"
)

// BenchPolicy is a realistic policy: a few rules a team would write, none of
// which blocks the benchmark's requests, so every request evaluates them all.
// Its action rules put the tool-call gate on every streamed answer, as
// deploy/policy.yaml does: the stream figures include what the gate costs.
const BenchPolicy = `rules:
  - id: block-admin-keys
    when: embedded.class == "admin_key"
    action: deny
    reason: admin API keys must not be embedded in applications
  - id: ci-runners
    when: caller.unit.startsWith("gitlab-runner") || caller.user == "ci"
    action: allow
    models: ["claude-haiku-*"]
    max_tokens: 4096
  - id: secrets-in-prompt
    when: "'private_key' in findings && findings['private_key'] > 0"
    action: require_approval
    reason: the prompt contains a private key
  - id: no-opus-for-batch
    when: caller.comm == "batch-job" && request.model.startsWith("claude-opus")
    action: deny
    reason: batch jobs use sonnet or haiku
  - id: interactive
    when: caller.uid >= 1000
    action: allow
    rate_limit: {requests: 120, window: 1m, per: uid}
  - id: destructive-shell
    on: action
    when: action.tool == "Bash" && has(action.input.command) && action.input.command.matches(r"\brm\s+-[a-zA-Z]*[rR]")
    action: deny
    reason: recursive deletes are not run by agents
  - id: writes-in-tree
    on: action
    when: action.tool in ["Write", "Edit"] && has(action.input.file_path) && !within(action.input.file_path, caller.cwd)
    action: deny
    reason: agents write only inside their working tree
default:
  action: allow
  reason: default rule
`

// AirlockConfig is an in-process Airlock: airlockd's own assembly
// (internal/daemon: CA, credentials, policy, masking, audit through the
// observing auditor, approvals, gateway, TLS) without the eBPF capture,
// behind a plain TCP listener. It is the smoke test's Airlock and the
// fallback when no airlockd binary is given.
type AirlockConfig struct {
	Listen         string // "127.0.0.1:0"
	Dir            string // state, runtime, key and policy files
	Upstream       string // host:port of the fake API
	UpstreamCAFile string
	ManagedKey     string
	NoMasking      bool   // masking.disable lists every detector but the managed key's
	Central        string // audit.central.url: ship the audit trail to a fleet's PostgreSQL
	Log            *zap.Logger
}

// Airlock is a running in-process Airlock.
type Airlock struct {
	Addr   string
	CAFile string // the Airlock CA clients must trust
	d      *daemon.Daemon
	ln     net.Listener
}

// StartAirlock builds the daemon from its typed configuration and serves it.
func StartAirlock(ctx context.Context, cfg AirlockConfig) (*Airlock, error) {
	c, err := DaemonConfig(cfg.Dir, cfg.Upstream, cfg.UpstreamCAFile, cfg.ManagedKey)
	if err != nil {
		return nil, err
	}
	c.Log.Level = "warn"
	c.Audit.Central.URL, c.Audit.Central.HostID = cfg.Central, "bench"
	if cfg.NoMasking {
		if c.Masking.Disable, err = detectorNames(); err != nil {
			return nil, err
		}
	}
	a := &Airlock{CAFile: filepath.Join(cfg.Dir, "airlock-ca.pem"), d: daemon.New(c, daemon.Options{Log: cfg.Log, NoCapture: true})}
	if err := a.d.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting the daemon: %w", err)
	}
	if err := a.serve(cfg.Listen); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// DaemonConfig is the benchmark's airlockd configuration: state under dir,
// the fake API as the upstream, the managed key in a file and BenchPolicy.
func DaemonConfig(dir, upstream, upstreamCA, key string) (*config.Config, error) {
	c := config.Default()
	c.StateDir, c.RuntimeDir = filepath.Join(dir, "state"), filepath.Join(dir, "run")
	c.Upstream.Override, c.Upstream.ExtraCAFile = upstream, upstreamCA
	c.Credentials = []config.Credential{{Name: "default", Kind: config.KindAPIKey, File: filepath.Join(dir, "managed.key")}}
	c.Policy.File = filepath.Join(dir, "policy.yaml")
	c.Resolve()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(c.Credentials[0].File, []byte(key+"\n"), 0o600); err != nil {
		return nil, err
	}
	return c, os.WriteFile(c.Policy.File, []byte(BenchPolicy), 0o600)
}

// detectorNames is every built-in detector but the managed key's, which
// the daemon never switches off.
func detectorNames() ([]string, error) {
	m, err := mask.New(mask.Config{PII: true})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range m.Detectors() {
		if d.Name != mask.ManagedCredential {
			names = append(names, d.Name)
		}
	}
	return names, nil
}

// serve writes the CA where clients look for it (readers poll for the file,
// so it appears whole) and hands every connection to the daemon's TLS
// server with the benchmark process as the caller.
func (a *Airlock) serve(listen string) error {
	if err := atomicfile.WriteFile(a.CAFile, a.d.CA().CertPEM(), 0o644); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	a.ln, a.Addr = ln, ln.Addr().String()
	self := caller.Process{PID: os.Getpid(), UID: uint32(os.Getuid()), Comm: "airlock-bench"}
	go a.d.ServeListener(context.Background(), ln, self)
	return nil
}

// Close stops accepting and stops the daemon (which drains and closes the
// audit store).
func (a *Airlock) Close() error {
	if a.ln != nil {
		a.ln.Close()
	}
	return a.d.Close()
}
