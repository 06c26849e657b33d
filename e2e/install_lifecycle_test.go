package e2e

import (
	"regexp"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/internal/testutil"
)

// waitActive waits (bounded) until airlockd is active again, which for
// Type=notify means it said READY=1: attached and listening.
const waitActive = "for i in $(seq 300); do systemctl is-active -q airlockd && exit 0; sleep 0.1; done; " +
	"systemctl status --no-pager airlockd; exit 1"

// unitProp reads one property of airlockd from systemd.
func unitProp(t *testing.T, m *testutil.Machine, name string) string {
	t.Helper()
	return strings.TrimSpace(m.Run(t, "systemctl show -P "+name+" airlockd"))
}

// reloadAppliesPolicy swaps in a policy that denies the client's model,
// reloads, sees the denial without a restart, and puts the original back.
func reloadAppliesPolicy(t *testing.T, m *testutil.Machine) {
	pid := unitProp(t, m, "MainPID")
	m.Run(t, "cp /etc/airlock/policy.yaml /root/policy.orig && cp "+machineTools+"/policy-deny.yaml /etc/airlock/policy.yaml")
	m.Run(t, "systemctl reload airlockd")
	// ExecReload sends SIGHUP and returns; the daemon applies it a moment later.
	if out := m.Run(t, "for i in $(seq 50); do c=$("+machineCurl+"); [ $c = 403 ] && exit 0; sleep 0.1; done; echo $c"); out != "" {
		t.Fatalf("after reload the denied model still got HTTP %s", out)
	}
	m.Run(t, "cp /root/policy.orig /etc/airlock/policy.yaml && rm /root/policy.orig && systemctl reload airlockd")
	if out := m.Run(t, "for i in $(seq 50); do c=$("+machineCurl+"); [ $c = 200 ] && exit 0; sleep 0.1; done; echo $c"); out != "" {
		t.Fatalf("after restoring the policy: HTTP %s", out)
	}
	if after := unitProp(t, m, "MainPID"); after != pid {
		t.Errorf("reload restarted the daemon: pid %s -> %s", pid, after)
	}
}

// killRefusesThenAdopts kills airlockd with SIGKILL: a captured client
// started right after is refused (fail closed, not let through), systemd
// restarts it, and the new daemon adopts the pinned links (the kernel
// still shows exactly the same programs and links).
func killRefusesThenAdopts(t *testing.T, m *testutil.Machine) {
	before := pinnedLinks(t, m)
	pid := unitProp(t, m, "MainPID")
	// systemctl kill returns once the signal is sent: wait for the process to
	// be gone (RestartSec=1s keeps systemd from starting the next one yet), so
	// the client meets the dead daemon's pins, not its last moments.
	out, _ := m.RunErr("systemctl kill -s SIGKILL airlockd; while kill -0 " + pid + " 2>/dev/null; do sleep 0.01; done; " +
		machineCurl + "; echo \" rc=$?\"")
	if !strings.Contains(out, " rc=7") {
		t.Fatalf("a client right after SIGKILL was not refused (curl exit 7):\n%s", out)
	}
	m.Run(t, waitActive)
	if after := unitProp(t, m, "MainPID"); after == pid {
		t.Fatalf("still the killed pid %s", pid)
	}
	requireAdopted(t, m, before)
	requireIntercepted(t, m)
}

// hangDropIn is the test's drop-in: a short watchdog and the hang trigger.
// It lives in /run (gone at reboot) and the test removes it.
const hangDropIn = "/run/systemd/system/airlockd.service.d/50-test-hang.conf"

// watchdogRestartsHung wedges the daemon's health check (SIGUSR2, armed
// only by the drop-in's variable) and waits for systemd's watchdog to
// kill and restart it.
func watchdogRestartsHung(t *testing.T, m *testutil.Machine) {
	m.Run(t, "mkdir -p $(dirname "+hangDropIn+") && printf '[Service]\\nEnvironment=AIRLOCK_TEST_WATCHDOG_HANG=1\\nWatchdogSec=2s\\n' >"+hangDropIn+
		" && systemctl daemon-reload && systemctl restart airlockd && "+waitActive)
	pins, pid := pinnedLinks(t, m), unitProp(t, m, "MainPID")
	m.Run(t, "systemctl kill -s SIGUSR2 --kill-who=main airlockd")
	m.Run(t, "for i in $(seq 200); do [ \"$(systemctl show -P MainPID airlockd)\" != "+pid+" ] && systemctl is-active -q airlockd && exit 0; sleep 0.1; done; exit 1")
	if log := m.Run(t, "journalctl --no-pager -u airlockd"); !strings.Contains(log, "Watchdog timeout") {
		t.Errorf("restarted, but not by the watchdog:\n%s", log)
	}
	m.Run(t, "rm "+hangDropIn+" && systemctl daemon-reload && systemctl restart airlockd && "+waitActive)
	want := strings.TrimPrefix(unitSettings(t, "WatchdogSec")[0], "WatchdogSec=")
	if w := unitProp(t, m, "WatchdogUSec"); w != want {
		t.Errorf("WatchdogUSec after removing the drop-in = %s, want the unit's %s", w, want)
	}
	requireAdopted(t, m, pins)
	requireIntercepted(t, m)
}

// upgradeKeepsEverything installs the newer build while a captured client
// calls the API in a loop: every call is answered through Airlock or
// refused (fail closed), none reaches the API directly; the CA, the audit
// chain and the pinned links are the same afterwards, and the new binary runs.
func upgradeKeepsEverything(t *testing.T, m *testutil.Machine) {
	ca := m.Run(t, "sha256sum /var/lib/airlock/ca/ca.crt /var/lib/airlock/ca/ca.key")
	records := auditCount(t, m)
	pins := pinnedLinks(t, m)
	m.Run(t, "systemd-run --unit=upgrade-client --service-type=exec sh -c 'for i in $(seq 3000); do [ -e /run/upgrade-stop ] && exit 0; "+
		"c=$("+machineCurl+" 2>/dev/null); echo \"$c rc=$?\" >>/run/upgrade-client.log; done'")
	m.Run(t, "sleep 1; cd "+machineNext+" && bin/airlock install --key-file anthropic.key && sleep 1; touch /run/upgrade-stop")
	m.Run(t, "while systemctl is-active -q upgrade-client; do sleep 0.1; done")
	checkNoBypass(t, m, m.Run(t, "cat /run/upgrade-client.log; rm /run/upgrade-client.log /run/upgrade-stop"))
	if v := machineStatus(t, m).Version; v != upgradeVersion {
		t.Errorf("running version %q after the upgrade, want %q", v, upgradeVersion)
	}
	if after := m.Run(t, "sha256sum /var/lib/airlock/ca/ca.crt /var/lib/airlock/ca/ca.key"); after != ca {
		t.Errorf("the CA changed across the upgrade:\n%s\n%s", ca, after)
	}
	if n := auditCount(t, m); n <= records {
		t.Errorf("audit records %d -> %d: the old ones must stay and the new calls be added", records, n)
	}
	m.Run(t, "airlock audit verify")
	requireAdopted(t, m, pins)
}

// checkNoBypass reads the client loop's log, a line per call ("200 rc=0"):
// answered through Airlock, or failed without an answer ("000": refused,
// or cut by the stopping daemon). A call that reached the fake API directly
// fails on its certificate (curl exit 60), or is answered by it with the
// app's key; the fake API's log is checked for that key too.
func checkNoBypass(t *testing.T, m *testutil.Machine, log string) {
	t.Helper()
	answered := 0
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		switch {
		case line == "200 rc=0":
			answered++
		case strings.HasPrefix(line, "000 rc=") && line != "000 rc=60":
		default:
			t.Errorf("a captured call during the upgrade: %q", line)
		}
	}
	if answered < 2 {
		t.Errorf("only %d calls answered during the upgrade:\n%s", answered, log)
	}
	if seen := m.Run(t, "cat "+fakeAPILog); strings.Contains(seen, leakedKeyM) {
		t.Errorf("the app's own key reached the API")
	}
	t.Logf("calls during the upgrade: %d answered, %d refused or cut", answered, strings.Count(log, "\n")+1-answered)
}

var recordCount = regexp.MustCompile(`"id":`)

// auditCount is the number of records in the audit store.

func auditCount(t *testing.T, m *testutil.Machine) int {
	t.Helper()
	// --limit 0: every record.
	return len(recordCount.FindAllString(m.Run(t, "airlock audit list --limit 0 --format json"), -1))
}

// rebootCapturesFirst reboots the machine: airlockd comes back, and the boot
// probe — a unit ordered only after the network, not after airlockd — found
// it active and was answered through Airlock.
func rebootCapturesFirst(t *testing.T, m *testutil.Machine) {
	m.Reboot(t)
	m.Run(t, waitActive)
	state, out, rc := m.Run(t, "cat "+bootProbeDir+"/airlockd"), m.Run(t, "cat "+bootProbeDir+"/out"), m.Run(t, "cat "+bootProbeDir+"/rc")
	if state != "active\n" || out != "200" || rc != "0\n" {
		t.Fatalf("the boot-time client was not captured: airlockd %q when it started, HTTP %q, curl exit %q", state, out, rc)
	}
	requireNoneAtHostRoot(t, testutil.Cgroup2Mount(t), requireAttachedOnce(t, m.Cgroup()))
	requireIntercepted(t, m)
}
