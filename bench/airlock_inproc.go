package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/gateway"
	"github.com/airlock-dev/airlock/policy"
	"github.com/airlock-dev/airlock/policy/credential"
	"github.com/airlock-dev/airlock/policy/mask"
	"github.com/airlock-dev/airlock/tlsmitm"
)

// BenchPolicy is a realistic policy: a few rules a team would write, none of
// which blocks the benchmark's requests, so every request evaluates them all.
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
default:
  action: allow
  reason: default rule
`

// AirlockConfig assembles Airlock's data path in one process: TLS termination
// (tlsmitm) and the gateway (credential substitution, policy, masking, audit)
// behind a plain TCP listener that stands in for the eBPF capture. It is the
// smoke test's Airlock and the fallback when no airlockd binary is given.
type AirlockConfig struct {
	Listen         string // "127.0.0.1:0"
	Dir            string // CA, key file, audit database
	Upstream       string // host:port of the fake API
	UpstreamCAFile string
	ManagedKey     string
	Mask, Audit    bool
	Log            *zap.Logger
}

// Airlock is a running in-process Airlock.
type Airlock struct {
	Addr   string
	CAFile string // the Airlock CA clients must trust
	ln     net.Listener
	tls    *tlsmitm.Server
	store  *audit.Store
	conns  atomic.Uint64
}

// StartAirlock builds and serves the data path.
func StartAirlock(ctx context.Context, cfg AirlockConfig) (*Airlock, error) {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	a := &Airlock{CAFile: filepath.Join(cfg.Dir, "airlock-ca.pem")}
	gw, err := a.gateway(ctx, cfg)
	if err != nil {
		a.Close()
		return nil, err
	}
	if err := a.serve(cfg, gw); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (a *Airlock) gateway(ctx context.Context, cfg AirlockConfig) (*gateway.Gateway, error) {
	up, err := tlsmitm.NewUpstream(tlsmitm.UpstreamConfig{ExtraCAFile: cfg.UpstreamCAFile, Override: cfg.Upstream})
	if err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	keyFile := filepath.Join(cfg.Dir, "managed.key")
	if err := os.WriteFile(keyFile, []byte(cfg.ManagedKey+"\n"), 0o600); err != nil {
		return nil, err
	}
	creds, err := credential.NewStore(credential.Config{Credentials: []credential.Spec{{Name: "default", Kind: credential.KindAPIKey, File: keyFile}}}, cfg.Log)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	eng, err := policy.Compile([]byte(BenchPolicy), policy.Options{})
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	gcfg := gateway.Config{Transport: up, Policy: func() *policy.Engine { return eng }, Credentials: creds,
		InstallKey: []byte("bench-install-key"), Log: cfg.Log}
	if err := a.optional(ctx, cfg, &gcfg); err != nil {
		return nil, err
	}
	return gateway.New(gcfg)
}

// optional adds masking and the audit store when configured.
func (a *Airlock) optional(ctx context.Context, cfg AirlockConfig, g *gateway.Config) error {
	if cfg.Mask {
		m, err := mask.New(mask.Config{Key: []byte("bench-install-key")})
		if err != nil {
			return fmt.Errorf("masker: %w", err)
		}
		g.Masker = m
	}
	if cfg.Audit {
		s, err := audit.Open(ctx, audit.StoreConfig{Path: filepath.Join(cfg.Dir, "audit.db"), Log: cfg.Log})
		if err != nil {
			return fmt.Errorf("audit store: %w", err)
		}
		a.store, g.Auditor = s, s
	}
	return nil
}

func (a *Airlock) serve(cfg AirlockConfig, gw *gateway.Gateway) error {
	ca, err := tlsmitm.LoadOrCreateCA(tlsmitm.CAConfig{Dir: filepath.Join(cfg.Dir, "ca"), Hosts: []string{APIHost}}, cfg.Log)
	if err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	if err := os.WriteFile(a.CAFile+".tmp", ca.CertPEM(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(a.CAFile+".tmp", a.CAFile); err != nil { // readers poll for the file
		return err
	}
	if a.tls, err = tlsmitm.NewServer(tlsmitm.ServerConfig{Authority: ca, Handler: gw, Log: cfg.Log}); err != nil {
		return fmt.Errorf("tls server: %w", err)
	}
	if a.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return err
	}
	a.Addr = a.ln.Addr().String()
	go a.accept()
	return nil
}

// accept hands each connection to the TLS server as capture would, with the
// benchmark process as the caller.
func (a *Airlock) accept() {
	self := caller.Process{PID: os.Getpid(), UID: uint32(os.Getuid()), Comm: "airlock-bench"}
	for {
		conn, err := a.ln.Accept()
		if err != nil {
			return
		}
		peer, _ := netip.ParseAddrPort(conn.RemoteAddr().String())
		dst, _ := netip.ParseAddrPort(conn.LocalAddr().String())
		o := &caller.Origin{ConnID: "bench-" + strconv.FormatUint(a.conns.Add(1), 10), Peer: peer, Dst: dst,
			SNI: APIHost, Process: self, Accepted: time.Now()}
		go a.tls.ServeAPI(context.Background(), conn, o)
	}
}

// Close stops accepting, closes the TLS server and the audit store.
func (a *Airlock) Close() error {
	var errs []error
	if a.ln != nil {
		errs = append(errs, a.ln.Close())
	}
	if a.tls != nil {
		errs = append(errs, a.tls.Close())
	}
	if a.store != nil {
		errs = append(errs, a.store.Close())
	}
	return errors.Join(errs...)
}
