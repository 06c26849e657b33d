package cli

import (
	"net"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/cmd/airlock/internal/doctor"
)

// The command: JSON for scripts, exit 1 when a check fails, 0 when all pass.
func TestDoctorConfigAndCA(t *testing.T) {
	cfg, state := testConfig(t, "")
	var rep doctor.Report
	r := run(t, "", "--config", cfg, "--json", "doctor", "--only", "config,ca")
	r.decodeJSON(t, &rep)
	if r.code != ExitFailure || rep.OK || rep.Failed() != 1 {
		t.Errorf("without a CA: code %d, report %+v", r.code, rep)
	}
	createCA(t, state)
	r = run(t, "", "--config", cfg, "--json", "doctor", "--only", "config,ca")
	rep = doctor.Report{}
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

// With no daemon, the daemon check carries the CLI's reason and fix.
func TestDoctorDaemonDown(t *testing.T) {
	cfg, _ := testConfig(t, "")
	var rep doctor.Report
	run(t, "", "--config", cfg, "--json", "doctor", "--only", "daemon").decodeJSON(t, &rep)
	if len(rep.Checks) != 1 || rep.Checks[0].Result != doctor.Fail || !strings.Contains(rep.Checks[0].Detail, "not running") ||
		!strings.Contains(rep.Checks[0].Fix, "systemctl start airlockd") {
		t.Errorf("daemon down: %+v", rep)
	}
}
