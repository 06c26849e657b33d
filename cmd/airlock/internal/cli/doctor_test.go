package cli

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/internal/config"
)

type doctorReport struct {
	OK     bool
	Checks []check
}

func (r doctorReport) find(section, name string) (check, bool) {
	for _, c := range r.Checks {
		if c.Section == section && (name == "" || c.Name == name) {
			return c, true
		}
	}
	return check{}, false
}

func TestDoctorConfigAndCA(t *testing.T) {
	cfg, state := testConfig(t, "")
	var rep doctorReport
	r := run(t, "", "--config", cfg, "--json", "doctor", "--only", "config,ca")
	r.decodeJSON(t, &rep)
	if c, _ := rep.find("ca", ""); r.code != ExitFailure || c.Result != checkFail || !strings.Contains(c.Fix, "airlock install") {
		t.Errorf("without a CA: code %d, ca check %+v", r.code, c)
	}
	createCA(t, state)
	r = run(t, "", "--config", cfg, "--json", "doctor", "--only", "config,ca")
	rep = doctorReport{}
	r.decodeJSON(t, &rep)
	if r.code != 0 || !rep.OK || len(rep.Checks) != 2 {
		t.Errorf("with a CA: code %d, report %+v, stderr %s", r.code, rep, r.err)
	}
}

func TestDoctorInvalidConfigNamesTheKey(t *testing.T) {
	cfg, _ := testConfig(t, "log:\n  level: loud\n")
	r := run(t, "", "--config", cfg, "doctor", "--only", "config,ca")
	r.wantOneLineError(t, ExitFailure, "1 check(s) failed")
	for _, want := range []string{"FAIL", "log.level", "Fixes:", "skip"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, r.out)
		}
	}
}

func TestDoctorDNSOfLocalNames(t *testing.T) {
	cfg, _ := testConfig(t, "")
	cfgLocal := strings.Replace(readFile(t, cfg), "hosts: []", "hosts: [localhost]", 1)
	writeFile(t, cfg, cfgLocal)
	var rep doctorReport
	run(t, "", "--config", cfg, "--json", "doctor", "--only", "dns").decodeJSON(t, &rep)
	if c, ok := rep.find("dns", "localhost"); !ok || c.Result != checkOK || !strings.Contains(c.Detail, "127.0.0.1") {
		t.Errorf("dns of localhost: %+v", rep)
	}
}

// The upstream check trusts only Airlock's CA: an endpoint serving a leaf from
// it counts as intercepted; any other certificate means capture missed.
func TestDoctorUpstreamPath(t *testing.T) {
	cfg, state := testConfig(t, "")
	ca := createCA(t, state)
	leaf, err := ca.IssueLeaf("api.anthropic.com")
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
		{"intercepted", leaf, 200, `{"data":[]}`, checkOK, "upstream answered 200 (request-id req_test)"},
		{"bad credential", leaf, 401, `{"type":"error","error":{"type":"authentication_error","message":"x"}}`, checkFail, "rejected the managed credential"},
		{"upstream down", leaf, 502, `{"type":"error","error":{"type":"api_error","message":"x"}}`, checkFail, "could not reach upstream"},
		{"not intercepted", nil, 200, `{}`, checkFail, "not intercepted"},
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
		var rep doctorReport
		run(t, "", "--config", cfg, "--json", "doctor", "--only", "upstream", "--connect", srv.Listener.Addr().String()).decodeJSON(t, &rep)
		srv.Close()
		got, _ := rep.find("upstream", "api.anthropic.com")
		if got.Result != c.result || !strings.Contains(got.Detail, c.detail) {
			t.Errorf("%s: %+v, want %s containing %q", c.name, got, c.result, c.detail)
		}
	}
}

func TestDoctorUpstreamRefused(t *testing.T) {
	cfg, state := testConfig(t, "")
	createCA(t, state)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: like a fail-closed host with the daemon down
	r := run(t, "", "--config", cfg, "doctor", "--only", "upstream", "--connect", addr)
	r.wantOneLineError(t, ExitFailure, "1 check(s) failed")
	if !strings.Contains(r.out, "start airlockd") {
		t.Errorf("no fix for a refused connection:\n%s", r.out)
	}
}

func TestDoctorKernelRunsCaptureDiagnostics(t *testing.T) {
	cfg, _ := testConfig(t, "")
	var rep doctorReport
	run(t, "", "--config", cfg, "--json", "doctor", "--only", "kernel").decodeJSON(t, &rep)
	for _, name := range []string{"bpf syscall", "cgroup2 mount", "hook connect4", "hook getpeername6", "hook sockops"} {
		if c, ok := rep.find("kernel", name); !ok || c.Result == checkFail && c.Fix == "" {
			t.Errorf("kernel check %q missing or without a fix: %+v", name, c)
		}
	}
}

func TestDoctorCredentialSources(t *testing.T) {
	dir := t.TempDir()
	unit := dir + "/airlockd.service"
	writeFile(t, unit, "[Service]\nLoadCredential=anthropic-api-key:"+dir+"/key\n")
	cases := []struct {
		name   string
		c      config.Credential
		setup  func()
		result string
		want   string
	}{
		{"missing file", config.Credential{Name: "a", File: dir + "/nokey"}, nil, checkFail, "write the managed key"},
		{"shared file", config.Credential{Name: "b", File: dir + "/shared"}, func() { os.WriteFile(dir+"/shared", []byte("x"), 0o644) }, checkFail, "chmod 0600"},
		{"systemd credential", config.Credential{Name: "c", Systemd: "anthropic-api-key"}, func() { os.WriteFile(dir+"/key", []byte("x"), 0o600) }, checkOK, "present, private"},
		{"systemd without LoadCredential", config.Credential{Name: "d", Systemd: "other"}, nil, checkWarn, "LoadCredential=other:"},
		{"helper", config.Credential{Name: "e", Command: config.Argv{"/nonexistent/vault"}}, nil, checkFail, "install the helper"},
		{"env", config.Credential{Name: "f", Env: "ANTHROPIC_KEY"}, nil, checkOK, "ANTHROPIC_KEY"},
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
