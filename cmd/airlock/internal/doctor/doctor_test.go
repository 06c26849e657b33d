package doctor

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/admin"
	"github.com/airlock-dev/airlock/internal/config"
	"github.com/airlock-dev/airlock/tlsmitm"
)

// fakeHost is the CLI's side: a configuration, and a daemon that answers
// (status) or fails with an explained error.
type fakeHost struct {
	cfg    *config.Config
	status admin.Status
	err    error
}

func (h fakeHost) ConfigPath() string              { return "/etc/airlock/airlock.yaml" }
func (h fakeHost) Config() (*config.Config, error) { return h.cfg, nil }
func (h fakeHost) Status(context.Context) (admin.Status, string, error) {
	return h.status, "/run/test/admin.sock", h.err
}

func testConfig(t *testing.T) *config.Config {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.StateDir, cfg.RuntimeDir = filepath.Join(dir, "state"), filepath.Join(dir, "run")
	cfg.Capture.PinDir, cfg.Capture.Targets = filepath.Join(dir, "pins"), []string{"127.0.100.0/24"}
	cfg.Capture.APIHosts = []string{"api.anthropic.com"}
	cfg.Resolve()
	return cfg
}

func createCA(t *testing.T, cfg *config.Config) *tlsmitm.Authority {
	t.Helper()
	ca, err := tlsmitm.LoadOrCreateCA(tlsmitm.CAConfig{Dir: cfg.CADir(), Hosts: cfg.Capture.APIHosts}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func find(r Report, section, name string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Section == section && (name == "" || c.Name == name) {
			return c, true
		}
	}
	return Check{}, false
}

func TestCAMissingThenPresent(t *testing.T) {
	cfg := testConfig(t)
	r := Run(context.Background(), fakeHost{cfg: cfg}, Options{Only: []string{"config", "ca"}})
	if c, _ := find(r, "ca", ""); r.OK || c.Result != Fail || !strings.Contains(c.Fix, "airlock install") {
		t.Errorf("without a CA: %+v", r)
	}
	createCA(t, cfg)
	r = Run(context.Background(), fakeHost{cfg: cfg}, Options{Only: []string{"config", "ca"}})
	if !r.OK || len(r.Checks) != 2 || r.Failed() != 0 {
		t.Errorf("with a CA: %+v", r)
	}
}

func TestDNSOfLocalNames(t *testing.T) {
	cfg := testConfig(t)
	cfg.Capture.Hosts = []string{"localhost"}
	r := Run(context.Background(), fakeHost{cfg: cfg}, Options{Only: []string{"dns"}})
	if c, ok := find(r, "dns", "localhost"); !ok || c.Result != OK || !strings.Contains(c.Detail, "127.0.0.1") {
		t.Errorf("dns of localhost: %+v", r)
	}
}

// The daemon check shows the CLI's reason and fix apart, never a raw error.
func TestDaemonDownIsExplained(t *testing.T) {
	h := fakeHost{cfg: testConfig(t), err: explainedErr{"airlockd is not running: no admin socket at /run/test/admin.sock", "start it"}}
	r := Run(context.Background(), h, Options{Only: []string{"daemon"}})
	if c, _ := find(r, "daemon", "admin socket"); c.Result != Fail || c.Fix != "start it" || !strings.Contains(c.Detail, "not running") {
		t.Errorf("daemon down: %+v", r)
	}
	h.err, h.status = nil, admin.Status{Version: "v9", PID: 7, Capture: admin.CaptureStatus{FailMode: "closed", Cgroup: "/sys/fs/cgroup/x"}}
	r = Run(context.Background(), h, Options{Only: []string{"daemon"}})
	if c, _ := find(r, "daemon", "admin socket"); c.Result != OK || !strings.Contains(c.Detail, "version v9, pid 7, fail_mode closed, cgroup /sys/fs/cgroup/x") {
		t.Errorf("daemon up: %+v", r)
	}
}

type explainedErr struct{ reason, fix string }

func (e explainedErr) Error() string                 { return e.reason + "; fix: " + e.fix }
func (e explainedErr) Explain() (reason, fix string) { return e.reason, e.fix }

// The upstream check trusts only Airlock's CA: an endpoint serving a leaf from
// it counts as intercepted; any other certificate means capture missed.
func TestUpstreamPath(t *testing.T) {
	cfg := testConfig(t)
	leaf, err := createCA(t, cfg).IssueLeaf("api.anthropic.com")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		cert   *tls.Certificate
		status int
		body   string
		result string
		detail string
	}{
		{"intercepted", leaf, 200, `{"data":[]}`, OK, "upstream answered 200 (request-id req_test)"},
		{"bad credential", leaf, 401, `{"type":"error","error":{"type":"authentication_error","message":"x"}}`, Fail, "rejected the managed credential"},
		{"upstream down", leaf, 502, `{"type":"error","error":{"type":"api_error","message":"x"}}`, Fail, "could not reach upstream"},
		{"not intercepted", nil, 200, `{}`, Fail, "not intercepted"},
	}
	for _, c := range cases {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("request-id", "req_test")
			w.WriteHeader(c.status)
			w.Write([]byte(c.body))
		}))
		if c.cert != nil {
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{*c.cert}}
		}
		srv.StartTLS()
		r := Run(context.Background(), fakeHost{cfg: cfg}, Options{Only: []string{"upstream"}, Connect: srv.Listener.Addr().String()})
		srv.Close()
		got, _ := find(r, "upstream", "api.anthropic.com")
		if got.Result != c.result || !strings.Contains(got.Detail, c.detail) {
			t.Errorf("%s: %+v, want %s containing %q", c.name, got, c.result, c.detail)
		}
	}
}

func TestKernelRunsCaptureDiagnostics(t *testing.T) {
	r := Run(context.Background(), fakeHost{cfg: testConfig(t)}, Options{Only: []string{"kernel"}})
	for _, name := range []string{"bpf syscall", "cgroup2 mount", "hook connect4", "hook getpeername6", "hook sockops"} {
		if c, ok := find(r, "kernel", name); !ok || c.Result == Fail && c.Fix == "" {
			t.Errorf("kernel check %q missing or without a fix: %+v", name, c)
		}
	}
}

func TestCredentialSources(t *testing.T) {
	dir := t.TempDir()
	unit := dir + "/airlockd.service"
	if err := os.WriteFile(unit, []byte("[Service]\nLoadCredential=anthropic-api-key:"+dir+"/key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		c      config.Credential
		setup  func()
		result string
		want   string
	}{
		{"missing file", config.Credential{Name: "a", File: dir + "/nokey"}, nil, Fail, "write the managed key"},
		{"shared file", config.Credential{Name: "b", File: dir + "/shared"}, func() { os.WriteFile(dir+"/shared", []byte("x"), 0o644) }, Fail, "chmod 0600"},
		{"systemd credential", config.Credential{Name: "c", Systemd: "anthropic-api-key"}, func() { os.WriteFile(dir+"/key", []byte("x"), 0o600) }, OK, "present, private"},
		{"systemd without LoadCredential", config.Credential{Name: "d", Systemd: "other"}, nil, Warn, "LoadCredential=other:"},
		{"helper", config.Credential{Name: "e", Command: config.Argv{"/nonexistent/vault"}}, nil, Fail, "install the helper"},
		{"env", config.Credential{Name: "f", Env: "ANTHROPIC_KEY"}, nil, OK, "ANTHROPIC_KEY"},
	}
	for _, c := range cases {
		if c.setup != nil {
			c.setup()
		}
		got := credentialCheck(c.c, unit)
		if got.Result != c.result || !strings.Contains(got.Detail+" "+got.Fix, c.want) {
			t.Errorf("%s: %+v, want %s mentioning %q", c.name, got, c.result, c.want)
		}
	}
}
