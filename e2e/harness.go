package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/internal/config"
	"github.com/airlock-dev/airlock/internal/fakeapi"
	"github.com/airlock-dev/airlock/internal/testutil"
)

// Fixed names of the test world. Everything is fake and on loopback.
const (
	ManagedKey = "sk-ant-api03-FAKE-managed-key-not-real" // what the upstream must receive
	APIHost    = "api.anthropic.com"                      // resolved to TargetAddr inside the sandbox only
	TargetAddr = "127.0.100.1"                            // inside Targets: redirected by the eBPF hooks
	Targets    = "127.0.100.0/24"
)

// Options shape one test's daemon. The zero value is a working setup.
type Options struct {
	Policy   string         // policy YAML; "" = the daemon's built-in default
	Config   string         // YAML merged after the harness's (conf.d/50-test.yaml)
	Env      []string       // extra environment for airlockd
	Upstream fakeapi.Config // zero: accepts ManagedKey only
	Timeout  time.Duration  // hang guard for startup and each client (default 60s)
	OwnCA    bool           // a CA (and trust layer) of this test's own instead of the shared one
	Wrapper  []string       // a command airlockd runs under (e.g. setpriv with a capability set)
}

// Harness is one airlockd with its own fake upstream, cgroup, pin directory,
// state and runtime directories and listener ports.
type Harness struct {
	Upstream   *fakeapi.Running
	Dir        string // t.TempDir(): config, state, logs
	ConfigFile string
	StateDir   string
	RuntimeDir string // short path: the admin and notify sockets live here
	PinDir     string
	Cgroup     string
	ListenV4   string // the listener's bound address once the daemon is ready
	ListenV6   string

	opts   Options
	daemon *process
	log    *syncBuffer
	layer  string // sandbox layer where the CA is trusted and the API host resolves to TargetAddr
}

// Start prepares a harness and starts airlockd, waiting for its READY
// notification. Cleanup stops it and checks that nothing is left behind.
func Start(t testing.TB, opts Options) *Harness {
	t.Helper()
	h := Prepare(t, opts)
	if err := h.StartDaemon(t); err != nil {
		t.Fatalf("starting airlockd: %v\n%s", err, h.Log())
	}
	return h
}

// Prepare creates everything a daemon needs (fake upstream, cgroup, config)
// without starting it, for tests of startup failures.
func Prepare(t testing.TB, opts Options) *Harness {
	t.Helper()
	testutil.RequirePrivileged(t, "eBPF capture, cgroups and mount namespaces")
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if len(opts.Upstream.APIKeys)+len(opts.Upstream.BearerTokens) == 0 {
		opts.Upstream.APIKeys = []string{ManagedKey}
	}
	h := &Harness{opts: opts, Dir: t.TempDir(), log: &syncBuffer{}}
	h.Upstream = fakeapi.StartTLS(t, opts.Upstream)
	h.RuntimeDir = shortTempDir(t)
	h.StateDir = filepath.Join(h.Dir, "state")
	h.PinDir = uniquePinDir(t)
	h.Cgroup = newCgroup(t)
	// Port 0: the kernel picks free ports, the daemon reports them (status).
	h.ListenV4, h.ListenV6 = "127.0.0.1:0", "[::1]:0"
	h.writeConfig(t)
	t.Cleanup(func() { h.cleanup(t) })
	if !opts.OwnCA {
		caDir, layer := sharedTrust(t)
		if err := copyCA(caDir, filepath.Join(h.StateDir, "ca")); err != nil {
			t.Fatalf("copying the shared CA: %v", err)
		}
		h.layer = layer
	}
	return h
}

// Log is everything airlockd wrote so far.
func (h *Harness) Log() string { return h.log.String() }

// writeConfig writes the daemon's config, the managed key file and the policy.
func (h *Harness) writeConfig(t testing.TB) {
	t.Helper()
	keyFile := filepath.Join(h.Dir, "managed.key")
	writeFile(t, keyFile, ManagedKey+"\n", 0o400)
	c := config.Default()
	c.StateDir, c.RuntimeDir, c.DrainTimeout = h.StateDir, h.RuntimeDir, 10*time.Second
	c.Log = config.Log{Level: "debug", Format: "json"}
	c.Capture.Cgroup, c.Capture.PinDir, c.Capture.ListenV4, c.Capture.ListenV6 = h.Cgroup, h.PinDir, h.ListenV4, h.ListenV6
	c.Capture.Targets, c.Capture.Hosts, c.Capture.APIHosts = []string{Targets}, []string{}, []string{APIHost}
	c.Upstream.Override, c.Upstream.ExtraCAFile = h.Upstream.Addr, h.Upstream.CAFile
	c.Credentials = []config.Credential{{Name: "default", Kind: config.KindAPIKey, File: keyFile}}
	if h.opts.Policy != "" {
		c.Policy.File = filepath.Join(h.Dir, "policy.yaml")
		writeFile(t, c.Policy.File, h.opts.Policy, 0o644)
	}
	// Not resolved: audit.path and admin.socket stay derived from the
	// directories, as in an operator's file, so a test may move them.
	yaml, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	h.ConfigFile = filepath.Join(h.Dir, "airlock.yaml")
	writeFile(t, h.ConfigFile, "# written by the e2e harness\n"+string(yaml), 0o644)
	confd := filepath.Join(h.Dir, "conf.d")
	if err := os.MkdirAll(confd, 0o755); err != nil {
		t.Fatal(err)
	}
	if h.opts.Config != "" {
		writeFile(t, filepath.Join(confd, "50-test.yaml"), h.opts.Config, 0o644)
	}
}

func writeFile(t testing.TB, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

// shortTempDir is a temporary directory with a path short enough for unix
// sockets (108 bytes), removed at cleanup.
func shortTempDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "ae2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// syncBuffer collects a subprocess's output for the test's failure messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// LogContains reports whether the daemon's log contains s.
func (h *Harness) LogContains(s string) bool { return strings.Contains(h.Log(), s) }
