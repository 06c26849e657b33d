//go:build linux

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/internal/testutil"
)

// The install tests' machine: a booted Debian 12 with systemd (see
// testutil.Machine), a release tree at /root/airlock, and a fake Claude API
// standing in for the internet.
const (
	machineRelease = "/root/airlock"      // `make build` output and deploy/, where the operator runs install
	machineNext    = "/root/airlock-next" // the same, of a newer build (the upgrade)
	upgradeVersion = "v99.0.0-install-test-upgrade"
	machineTools   = "/opt/airlock-test" // test-only programs (the fake API)
	fakeAPIAddr    = "127.0.100.1"       // api.anthropic.com in the machine's /etc/hosts
	managedKeyM    = "sk-ant-api03-FAKE-managed-key-installed-EXAMPLE"
	leakedKeyM     = "sk-ant-api03-FAKE-leaked-key-in-the-app-EXAMPLE"
	fakeAPILog     = "/var/log/fakeapi.log"
	bootProbeDir   = "/run/boot-probe"
)

// The machine's fixtures, written before its first boot: none of them is a
// step of the install; they stand in for the network and the applications.
var machineFiles = map[string]string{
	"/etc/systemd/system/fakeapi.service": `[Unit]
Description=Fake Claude API: api.anthropic.com for the install tests
Before=airlockd.service

[Service]
Type=exec
RuntimeDirectory=fakeapi
ExecStart=` + machineTools + `/demoupstream -listen ` + fakeAPIAddr + `:443 -ca-out /run/fakeapi/ca.pem -key ` + managedKeyM + ` -log ` + fakeAPILog + `
# Started means listening: it writes its CA once the listener is up.
ExecStartPost=/bin/sh -c 'until [ -s /run/fakeapi/ca.pem ]; do sleep 0.05; done'

[Install]
WantedBy=multi-user.target
`,
	// An application that starts at boot as soon as the network is there,
	// with no ordering against airlockd of its own: Airlock's unit must make
	// it captured. It records what its first request met.
	"/etc/systemd/system/boot-probe.service": `[Unit]
Description=An application calling the Claude API at boot
After=network.target
Wants=network.target

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'mkdir -p ` + bootProbeDir + `; systemctl is-active airlockd >` + bootProbeDir + `/airlockd; ` + machineCurl + ` >` + bootProbeDir + `/out 2>&1; echo $? >` + bootProbeDir + `/rc'

[Install]
WantedBy=multi-user.target
`,
	// The site configuration the operator (or cloud-init) puts in place: the
	// upstream here is the fake API, signed by its own CA.
	"/etc/airlock/conf.d/50-test-upstream.yaml": "upstream:\n  extra_ca_file: /run/fakeapi/ca.pem\n",
}

// machineCurl runs an unmodified client with a key of its own, calling
// the API by name (machineClient); it prints the HTTP status and fails on a
// refused connection (exit 7) or an untrusted certificate (exit 60: a
// connection that reached the fake API directly, not through Airlock).
const machineCurl = "sh " + machineTools + "/client.sh"

var machineClient = map[string]string{
	"client.sh": `exec curl -sS -o /dev/null -w "%{http_code}" --max-time 20 https://api.anthropic.com/v1/messages ` +
		`-H "x-api-key: ` + leakedKeyM + `" -H "anthropic-version: 2023-06-01" -H "content-type: application/json" ` +
		`-d @` + machineTools + `/body.json "$@"
`,
	"body.json": `{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hello from the install test"}]}`,
	// The policy change the reload test applies: the client's model is denied.
	"policy-deny.yaml": "rules:\n  - id: install-test-deny\n    when: request.model == \"claude-sonnet-4-5\"\n" +
		"    action: deny\n    reason: denied by the reloaded policy\ndefault:\n  action: allow\n",
}

// bootInstallMachine builds the release tree and the fake API, and boots a
// machine with both bound in.
func bootInstallMachine(t *testing.T) *testutil.Machine {
	t.Helper()
	release, next := buildRelease(t, ""), buildRelease(t, upgradeVersion)
	tools := t.TempDir()
	goBuild(t, tools, "./e2e/testdata/demoupstream")
	for name, content := range machineClient {
		if err := writeUnder(tools, name, content); err != nil {
			t.Fatal(err)
		}
	}
	m := testutil.BootMachine(t, testutil.MachineOptions{
		Rootfs: testutil.DebianRootfs(t, "machine", testutil.MachinePackages),
		BindRO: []string{release + ":" + machineRelease, next + ":" + machineNext, tools + ":" + machineTools},
		Setup:  writeMachineFiles,
	})
	t.Cleanup(func() { // runs before the machine's teardown
		if t.Failed() {
			out, _ := m.RunErr("systemctl status --no-pager airlockd; journalctl --no-pager -n 60 -u airlockd")
			t.Logf("airlockd in the machine:\n%s", out)
		}
	})
	return m
}

func writeMachineFiles(root string) error {
	for path, content := range machineFiles {
		if err := writeUnder(root, path, content); err != nil {
			return err
		}
	}
	for _, unit := range []string{"fakeapi.service", "boot-probe.service"} {
		link := filepath.Join(root, "etc/systemd/system/multi-user.target.wants", unit)
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			return err
		}
		if err := os.Symlink("/etc/systemd/system/"+unit, link); err != nil {
			return err
		}
	}
	// debootstrap writes no /etc/hosts; nspawn would bind the host's.
	hosts := "127.0.0.1 localhost\n::1 localhost\n" + fakeAPIAddr + " api.anthropic.com\n"
	return writeUnder(root, "/etc/hosts", hosts)
}

func writeUnder(root, path, content string) error {
	full := filepath.Join(root, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	return os.WriteFile(full, []byte(content), 0o644)
}

// buildRelease runs the README's `make build` into a release tree (bin/
// and a copy of deploy/) with the managed key beside it, as an operator's
// checkout would look. version, when set, stamps the build (an upgrade).
func buildRelease(t *testing.T, version string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("make", "-C", moduleRoot(), "build", "BIN="+filepath.Join(dir, "bin"))
	if version != "" {
		cmd.Env = append(os.Environ(), "GOFLAGS=-ldflags=-X=github.com/airlock-dev/airlock/internal/daemon.buildVersion="+version)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	if out, err := exec.Command("cp", "-r", filepath.Join(moduleRoot(), "deploy"), dir).CombinedOutput(); err != nil {
		t.Fatalf("copying deploy/: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "anthropic.key"), []byte(managedKeyM+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// goBuild builds a static test program into dir.
func goBuild(t *testing.T, dir string, pkgs ...string) {
	t.Helper()
	args := append([]string{"build", "-o", dir + "/"}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir, cmd.Env = moduleRoot(), append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", pkgs, err, out)
	}
}

// airlockPaths are every path Airlock may touch in the machine: binaries,
// configuration, unit and drop-ins, state, runtime, pins, trust stores and
// the runtimes' environment files.
var airlockPaths = []string{"/usr/local/bin", "/usr/local/share/ca-certificates", "/etc/airlock", "/etc/ssl",
	"/etc/ca-certificates", "/etc/ca-certificates.conf", "/etc/profile.d", "/etc/environment", "/etc/environment.d",
	"/etc/systemd", "/run/systemd/system", "/var/lib/airlock", "/run/airlock", "/sys/fs/bpf"}

// listAirlockPaths lists each of those paths (type, mode, link target) and
// the digest of every file, sorted: two listings are equal when nothing
// Airlock may have touched differs.
func listAirlockPaths(t *testing.T, m *testutil.Machine) string {
	t.Helper()
	paths := strings.Join(airlockPaths, " ")
	return m.Run(t, "{ find "+paths+" -printf '%p %y %m %l\\n' 2>/dev/null; "+
		"find "+paths+" -type f -exec sha256sum {} + 2>/dev/null; } | sort")
}
