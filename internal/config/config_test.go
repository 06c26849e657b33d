package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

const minimal = `
credentials:
  - name: default
    env: AIRLOCK_TEST_KEY
`

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMinimalFileGetsDefaults(t *testing.T) {
	f := writeFile(t, t.TempDir(), "airlock.yaml", minimal)
	c, err := Load(Source{File: f})
	if err != nil {
		t.Fatal(err)
	}
	if c.Capture.FailMode != FailClosed || c.Credentials[0].Kind != KindAPIKey {
		t.Errorf("defaults not applied: fail_mode=%q kind=%q", c.Capture.FailMode, c.Credentials[0].Kind)
	}
	if c.Audit.Path != "/var/lib/airlock/audit.db" || c.Admin.Socket != "/run/airlock/admin.sock" {
		t.Errorf("derived paths: audit=%q admin=%q", c.Audit.Path, c.Admin.Socket)
	}
	if c.Gateway.MaxBody != 32<<20 || c.Gateway.MaxEvent != 4<<20 || c.TLS.HandshakeTimeout != 10*time.Second {
		t.Errorf("max_body=%d max_event=%d handshake=%v", c.Gateway.MaxBody, c.Gateway.MaxEvent, c.TLS.HandshakeTimeout)
	}
}

func TestInvalidConfigListsEveryProblem(t *testing.T) {
	f := writeFile(t, t.TempDir(), "airlock.yaml", `
state_dir: relative/dir
log: {level: loud}
capture: {fail_mode: sideways, targets: [not-a-cidr], ports: [0], listen_v4: "10.0.0.1:443", relay_allow: ["not a host"],
  containers: {ca_configmaps: ["no-slash"], max_namespaces: 20000}}
tls: {handshake_timeout: 0s}
upstream: {protocol: h3}
gateway: {max_event: 0}
masking: {custom: [{name: x, pattern: "("}]}
credentials:
  - {name: a, kind: password, file: /k, env: K}
  - {name: a, env: K2, ttl: 1m}
`)
	_, err := Load(Source{File: f})
	if err == nil {
		t.Fatal("invalid config loaded")
	}
	for _, key := range []string{"state_dir:", "log.level:", "capture.fail_mode:", "capture.targets[0]:",
		"capture.ports[0]:", "capture.relay_allow[0]:", "capture.containers.ca_configmaps[0]:", "capture.containers.max_namespaces:", "capture.listen_v4:", "tls.handshake_timeout:", "upstream.protocol:", "gateway.max_event:",
		"masking.custom[0].pattern:",
		"credentials[0].kind:", "credentials[0]:", "credentials[1].name:", "credentials[1].ttl:"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s:\n%v", key, err)
		}
	}
	var p *Problem
	if !errors.As(err, &p) {
		t.Errorf("error is not a *Problem: %T", err)
	}
}

func TestMissingCredentialIsNamed(t *testing.T) {
	f := writeFile(t, t.TempDir(), "airlock.yaml", "log: {level: debug}\n")
	_, err := Load(Source{File: f})
	if err == nil || !strings.Contains(err.Error(), "credentials: at least one") {
		t.Fatalf("want credentials problem, got %v", err)
	}
}

func TestUnknownKeyIsRejected(t *testing.T) {
	f := writeFile(t, t.TempDir(), "airlock.yaml", minimal+"capture: {fail_mod: open}\n")
	_, err := Load(Source{File: f})
	if err == nil || !strings.Contains(err.Error(), "fail_mod") {
		t.Fatalf("want unknown key error naming fail_mod, got %v", err)
	}
}

func TestLayersOverrideInOrder(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "airlock.yaml", minimal+"log: {level: warn, format: json}\ncapture: {ports: [443, 8443]}\n")
	writeFile(t, dir, "conf.d/10-capture.yaml", "capture: {ports: [9443], fail_mode: open}\nmasking: {max_hold: 1KiB}\n")
	writeFile(t, dir, "conf.d/20-log.yaml", "log: {level: error}\n")
	t.Setenv("AIRLOCK_CAPTURE_TARGETS", "127.0.100.0/24,127.0.101.0/24")
	t.Setenv("AIRLOCK_LOG_LEVEL", "debug")
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse([]string{"--config", f, "--state-dir", "/tmp/st"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Source{Flags: fs})
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string][2]any{
		"log.level (env over conf.d)":  {c.Log.Level, "debug"},
		"log.format (file)":            {c.Log.Format, "json"},
		"capture.fail_mode (conf.d)":   {c.Capture.FailMode, FailOpen},
		"capture.ports (conf.d list)":  {len(c.Capture.Ports), 1},
		"capture.targets (env list)":   {len(c.Capture.Targets), 2},
		"state_dir (flag)":             {c.StateDir, "/tmp/st"},
		"audit.path (derived by flag)": {c.Audit.Path, "/tmp/st/audit.db"},
		"masking.max_hold (size)":      {c.Masking.MaxHold, ByteSize(1024)},
	}
	for name, got := range checks {
		if got[0] != got[1] {
			t.Errorf("%s = %v, want %v", name, got[0], got[1])
		}
	}
}

func TestNamedFileMustExist(t *testing.T) {
	_, err := Load(Source{File: filepath.Join(t.TempDir(), "nope.yaml")})
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("want missing file error, got %v", err)
	}
}

func TestCommandAsString(t *testing.T) {
	f := writeFile(t, t.TempDir(), "airlock.yaml", `
credentials:
  - {name: vault, kind: bearer, command: "vault read -field=key secret/claude", ttl: 5m}
`)
	c, err := Load(Source{File: f})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Credentials[0].Command; len(got) != 4 || got[0] != "vault" {
		t.Errorf("command = %q", got)
	}
}

func TestInlinePolicyNamesItsFile(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "airlock.yaml", minimal)
	inline := writeFile(t, dir, "conf.d/20-policy.yaml", "policy:\n  rules:\n    - {id: r, when: 'true', action: allow}\n  default: {action: deny}\n")
	c, err := Load(Source{File: f})
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy.PolicyPath() != inline || len(c.Policy.Rules) != 1 {
		t.Fatalf("policy path %q rules %d", c.Policy.PolicyPath(), len(c.Policy.Rules))
	}
	writeFile(t, dir, "conf.d/30-file.yaml", "policy: {file: /etc/airlock/policy.yaml}\n")
	if _, err := Load(Source{File: f}); err == nil || !strings.Contains(err.Error(), "policy: set either") {
		t.Fatalf("file and inline together: %v", err)
	}
}

func TestDefaultIsWhatAnEmptyFileGives(t *testing.T) {
	d := Default()
	d.Credentials = []Credential{{Name: "default", Env: "AIRLOCK_TEST_KEY"}}
	d.Resolve()
	if err := d.Validate(); err != nil {
		t.Fatalf("Default() with a credential does not validate: %v", err)
	}
	f := writeFile(t, t.TempDir(), "airlock.yaml", minimal)
	loaded, err := Load(Source{File: f, ConfDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d, loaded) {
		t.Fatalf("Default() differs from an empty file:\n%+v\n%+v", d, loaded)
	}
}

// What YAML writes, Load reads back unchanged, including an empty IPv6
// listener (which must not fall back to its default) and an inline policy.
func TestYAMLRoundTrips(t *testing.T) {
	c := Default()
	c.StateDir, c.RuntimeDir = "/tmp/airlock-yaml/state", "/tmp/airlock-yaml/run"
	c.Capture.ListenV6, c.Capture.Targets, c.Capture.Ports = "", []string{"127.0.100.0/24"}, []int{443, 8443}
	c.Credentials = []Credential{{Name: "default", File: "/etc/airlock/k"}, {Name: "vault", Kind: KindBearer, Command: Argv{"vault", "read"}, TTL: time.Minute}}
	c.Masking.MaxHold, c.Approvals.Timeout = 4096, 90*time.Second
	c.Resolve()
	b, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	f := writeFile(t, t.TempDir(), "airlock.yaml", string(b))
	got, err := Load(Source{File: f, ConfDir: t.TempDir()})
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	// Compared as YAML: Load gives empty lists where the original had nil.
	again, _ := got.YAML()
	if string(again) != string(b) || got.Capture.ListenV6 != "" || got.Credentials[1].TTL != time.Minute || got.Policy.InlineFile != "" {
		t.Fatalf("round trip differs:\n%s\n---\n%s", b, again)
	}
}
