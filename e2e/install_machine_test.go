package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/internal/testutil"
)

// Airlock installed for real: on a booted Debian 12 whose PID 1 is systemd,
// from `make build`'s binaries, with the README's commands; then reload,
// crash, hang, upgrade, reboot and uninstall, each checked from inside the
// machine and, for the eBPF attachments, from the host's kernel.
func TestInstalledOnSystemdMachine(t *testing.T) {
	m := bootInstallMachine(t)
	hostRoot := testutil.Cgroup2Mount(t)
	before := listAirlockPaths(t, m)
	var pins []string
	step(t, "before install a boot-time client is not intercepted", func(t *testing.T) {
		// The probe's certificate check fails against the fake API's own CA:
		// what a bypass looks like, so the check after reboot can fail.
		if rc := m.Run(t, "cat "+bootProbeDir+"/rc"); strings.TrimSpace(rc) != "60" {
			t.Fatalf("boot probe without Airlock: exit %q, want 60 (untrusted certificate)", rc)
		}
	})
	step(t, "README's installation commands", func(t *testing.T) { runReadmeInstall(t, m) })
	step(t, "the running unit is the file's", func(t *testing.T) {
		got := m.Run(t, "systemctl show -p Type,NotifyAccess,WatchdogUSec,Restart airlockd")
		for _, want := range unitSettings(t, "Type", "NotifyAccess", "WatchdogSec", "Restart") {
			want = strings.Replace(want, "WatchdogSec=", "WatchdogUSec=", 1)
			if !strings.Contains(got, want+"\n") {
				t.Errorf("systemctl show: want %s (as deploy/airlockd.service says) in\n%s", want, got)
			}
		}
	})
	step(t, "attached once, to the machine's cgroup, not the host's root", func(t *testing.T) {
		// The daemon attaches to "the cgroup2 root" as it sees it: the
		// machine runs in its own cgroup namespace, so that is the
		// machine's root cgroup, a child of the host's (see Machine.Cgroup).
		if m.Cgroup() == hostRoot || !strings.HasPrefix(m.Cgroup(), hostRoot+"/") {
			t.Fatalf("machine cgroup %s is not below the host root %s", m.Cgroup(), hostRoot)
		}
		pins = requireAttachedOnce(t, m.Cgroup())
		requireNoneAtHostRoot(t, hostRoot, pins)
		if st := machineStatus(t, m); st.Capture.Cgroup != "/sys/fs/cgroup" {
			t.Errorf("status says it captures %q, want the machine's cgroup2 root /sys/fs/cgroup", st.Capture.Cgroup)
		}
	})
	step(t, "a captured client reaches the API only with the managed key, and is audited", func(t *testing.T) {
		requireIntercepted(t, m)
		audit := m.Run(t, "airlock audit list --format json")
		if !strings.Contains(audit, `"curl"`) {
			t.Errorf("the audit does not name curl:\n%s", audit)
		}
	})
	step(t, "systemctl reload applies a policy change", func(t *testing.T) { reloadAppliesPolicy(t, m) })
	step(t, "SIGKILL: refused until systemd restarts it, pins adopted", func(t *testing.T) { killRefusesThenAdopts(t, m) })
	step(t, "the watchdog restarts a hung daemon", func(t *testing.T) { watchdogRestartsHung(t, m) })
	step(t, "upgrade keeps the CA, the audit chain and the pins, no bypass", func(t *testing.T) { upgradeKeepsEverything(t, m) })
	step(t, "after a reboot airlockd captures before any networked unit", func(t *testing.T) { rebootCapturesFirst(t, m) })
	step(t, "uninstall leaves the machine as before install", func(t *testing.T) {
		m.Run(t, "airlock uninstall")
		if after := listAirlockPaths(t, m); after != before {
			t.Errorf("uninstall left the machine different from before install:\n%s", lineDiff(before, after))
		}
		if left := attachedAt(t, m.Cgroup()); len(left) > 0 {
			t.Errorf("programs still attached at the machine's cgroup: %q", left)
		}
	})
}

// lineDiff lists the lines only in a (-) and only in b (+).
func lineDiff(a, b string) string {
	in := func(s string) map[string]bool {
		set := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			set[l] = true
		}
		return set
	}
	sa, sb := in(a), in(b)
	var out []string
	for l := range sa {
		if !sb[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range sb {
		if !sa[l] {
			out = append(out, "+ "+l)
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// unitSettings returns "Key=value" for each key as deploy/airlockd.service sets it.
func unitSettings(t *testing.T, keys ...string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleRoot(), "deploy", "airlockd.service"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		m := regexp.MustCompile(`(?m)^` + k + `=(\S+)$`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("deploy/airlockd.service sets no %s", k)
		}
		out = append(out, k+"="+string(m[1]))
	}
	return out
}

// daemonStatus is what the tests read of `airlock status --json`.
type daemonStatus struct {
	Version string `json:"version"`
	Capture struct {
		Cgroup string `json:"cgroup"`
	} `json:"capture"`
}

func machineStatus(t *testing.T, m *testutil.Machine) daemonStatus {
	t.Helper()
	var st daemonStatus
	out := m.Run(t, "airlock status --json")
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("airlock status --json: %v\n%s", err, out)
	}
	return st
}

// step runs one stage; the stages build on each other, so the first
// failure ends the test.
func step(t *testing.T, name string, fn func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, fn) {
		t.FailNow()
	}
}

// requireIntercepted runs the client as a transient service of the machine
// (captured: it is below the machine's root cgroup) and checks that it got
// an answer through Airlock and that the upstream saw only the managed key.
func requireIntercepted(t *testing.T, m *testutil.Machine) {
	t.Helper()
	if code := m.Run(t, machineCurl); code != "200" {
		t.Fatalf("captured client: HTTP %q, want 200", code)
	}
	seen := m.Run(t, "cat "+fakeAPILog)
	if !strings.Contains(seen, managedKeyM) || strings.Contains(seen, leakedKeyM) {
		t.Fatalf("upstream must see the managed key and never the app's:\n%s", seen)
	}
}

// readmeInstallCommands are the commands of README's installation section
// (its first sh block), comments removed.
func readmeInstallCommands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	sec := regexp.MustCompile("(?s)\n## Installation\n.*?```sh\n(.*?)```").FindSubmatch(b)
	if sec == nil {
		t.Fatal("README.md has no sh block in its Installation section")
	}
	var cmds []string
	for _, line := range strings.Split(string(sec[1]), "\n") {
		if cmd := strings.TrimSpace(strings.SplitN(line, "#", 2)[0]); cmd != "" {
			cmds = append(cmds, cmd)
		}
	}
	return cmds
}

// runReadmeInstall runs README's installation commands: `make build` ran on
// the host (buildRelease, into the tree bound at machineRelease); every
// other line runs in the machine, as root, from that tree.
func runReadmeInstall(t *testing.T, m *testutil.Machine) {
	t.Helper()
	cmds := readmeInstallCommands(t)
	if len(cmds) == 0 || cmds[0] != "make build" {
		t.Fatalf("README's installation must start with `make build` (the test's build step): %q", cmds)
	}
	for _, cmd := range cmds[1:] {
		out := m.Run(t, "cd "+machineRelease+" && "+strings.TrimPrefix(cmd, "sudo "))
		t.Logf("$ %s\n%s", cmd, out)
	}
}
