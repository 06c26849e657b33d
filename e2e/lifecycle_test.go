package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/internal/testutil"
)

const helloBody = `{"model":"claude-haiku-4-5","max_tokens":64,"messages":[{"role":"user","content":"hello"}]}`

// waitFor polls cond (a hang guard, not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, 15*time.Second, what, cond)
}

// TestSigtermDrainsStream: a stream in flight when SIGTERM arrives completes.
func TestSigtermDrainsStream(t *testing.T) {
	h := Start(t, Options{})
	body := `{"model":"claude-haiku-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"slowly"}]}`
	wait := h.Background(t, "curl", curlMessages(body, "-N", "-H", "x-fake-scenario: slow", "-H", "x-fake-interval-ms: 150")...)
	waitFor(t, "the upstream to receive the request", func() bool { return len(h.Upstream.Requests()) == 1 })
	h.Signal(t, syscall.SIGTERM)
	res := wait()
	if res.Code != 0 || !strings.Contains(res.Stdout, "event: message_stop") {
		t.Fatalf("the stream did not complete across SIGTERM: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	if err := h.Stop(t); err != nil {
		t.Fatalf("airlockd exit: %v\n%s", err, h.Log())
	}
}

// TestFailClosedKeepsPinsAndRestartAdopts: after a fail-closed stop the links
// stay pinned and Claude-bound connections are refused, never sent direct;
// a restarted daemon adopts them and serves again.
func TestFailClosedKeepsPinsAndRestartAdopts(t *testing.T) {
	h := Start(t, Options{})
	if err := h.Stop(t); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(h.PinDir); err != nil {
		t.Fatalf("fail closed: pins gone after stop: %v", err)
	}
	if res := h.Run(t, "curl", curlMessages(helloBody)...); res.Code == 0 {
		t.Fatalf("a request succeeded with no daemon: %s", res.Stdout)
	}
	if err := h.StartDaemon(t); err != nil {
		t.Fatalf("restart: %v\n%s", err, h.Log())
	}
	if res := h.Run(t, "curl", curlMessages(helloBody)...); res.Code != 0 || !strings.Contains(res.Stdout, `"type":"message"`) {
		t.Fatalf("after restart: exit %d %s %s", res.Code, res.Stdout, res.Stderr)
	}
	h.AssertUpstreamGotOnlyManagedKey(t, 1, leakedCurlKey)
}

// TestFailOpenDetaches: fail_mode open removes every pin on exit.
func TestFailOpenDetaches(t *testing.T) {
	h := Start(t, Options{Config: "capture: {fail_mode: open}\n"})
	if _, err := os.Stat(h.PinDir); err != nil {
		t.Fatalf("no pins while running: %v", err)
	}
	if err := h.Stop(t); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(h.PinDir); !os.IsNotExist(err) {
		t.Fatalf("fail open: pin dir still there after stop (%v)", err)
	}
}

// TestReloadPolicyTargetsAndCredentials: SIGHUP applies a new policy, keeps
// it when the next one is invalid, picks up a rotated key, and retargets.
func TestReloadPolicyTargetsAndCredentials(t *testing.T) {
	const rotated = "sk-ant-api03-FAKE-rotated-managed-key"
	allow := "default: {action: allow, reason: allowed}\n"
	h := Start(t, Options{Policy: allow, Upstream: upstreamKeys(ManagedKey, rotated)})
	policyFile := filepath.Join(h.Dir, "policy.yaml")

	writeFile(t, policyFile, "default: {action: deny, reason: closed for maintenance}\n", 0o644)
	h.Reload(t)
	res := h.Run(t, "curl", curlMessages(helloBody)...)
	if !strings.Contains(res.Stdout, "permission_error") || !strings.Contains(res.Stdout, "closed for maintenance") {
		t.Fatalf("after reload to deny: %s", res.Stdout)
	}

	writeFile(t, policyFile, "rules: [{id: x, when: 'nonsense(', action: allow}]\n", 0o644)
	h.Reload(t)
	if !h.LogContains("keeping the previous") {
		t.Fatal("the invalid policy was not reported")
	}
	if res := h.Run(t, "curl", curlMessages(helloBody)...); !strings.Contains(res.Stdout, "closed for maintenance") {
		t.Fatalf("an invalid policy replaced the previous one: %s", res.Stdout)
	}

	writeFile(t, policyFile, allow, 0o644)
	keyFile := filepath.Join(h.Dir, "managed.key")
	os.Remove(keyFile)
	writeFile(t, keyFile, rotated+"\n", 0o400)
	h.Reload(t)
	h.Upstream.Reset()
	if res := h.Run(t, "curl", curlMessages(helloBody)...); res.Code != 0 || !strings.Contains(res.Stdout, `"type":"message"`) {
		t.Fatalf("after rotation: %s %s", res.Stdout, res.Stderr)
	}
	if got := h.Upstream.Requests(); len(got) != 1 || got[0].Header.Get("X-Api-Key") != rotated {
		t.Fatalf("upstream did not get the rotated key")
	}

	writeFile(t, filepath.Join(h.Dir, "conf.d", "60-targets.yaml"), "capture: {targets: [127.0.101.0/24]}\n", 0o644)
	h.Reload(t)
	if !h.LogContains("targets reloaded") {
		t.Fatal("targets were not reloaded")
	}
	h.Upstream.Reset()
	if res := h.Run(t, "curl", curlMessages(helloBody)...); res.Code == 0 || len(h.Upstream.Requests()) != 0 {
		t.Fatalf("127.0.100.1 is no longer a target, yet the request went through: %s", res.Stdout)
	}
}

// TestStatusNamesWhatRuns: `airlock status --json` reports the attached
// cgroup, the targets, the CA and credential health without the value.
func TestStatusNamesWhatRuns(t *testing.T) {
	h := Start(t, Options{})
	res := h.Airlock(t, "status", "--json")
	if res.Code != 0 {
		t.Fatalf("status: %d %s %s", res.Code, res.Stdout, res.Stderr)
	}
	for _, want := range []string{h.Cgroup, "127.0.100.0/24:443", `"fingerprint"`, `"ok": true`} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("status lacks %s:\n%s", want, res.Stdout)
		}
	}
	if strings.Contains(res.Stdout, ManagedKey) || strings.Contains(h.Log(), ManagedKey) {
		t.Fatal("the managed key appears in the status or the log")
	}
}

// TestSystemdNotifications: READY at start (the harness waits for it),
// watchdog pings when WatchdogSec is set, RELOADING on SIGHUP.
func TestSystemdNotifications(t *testing.T) {
	h := Start(t, Options{Env: []string{"WATCHDOG_USEC=200000"}})
	waitFor(t, "a watchdog ping", func() bool { return h.Notified("WATCHDOG=1") })
	h.Signal(t, syscall.SIGHUP)
	waitFor(t, "RELOADING=1", func() bool { return h.Notified("RELOADING=1") })
}

// TestInlinePolicy: rules written in the daemon's own configuration decide.
func TestInlinePolicy(t *testing.T) {
	h := Start(t, Options{Config: "policy:\n  rules:\n    - {id: no-curl, when: 'caller.comm == \"curl\"', action: deny, reason: curl is not allowed here}\n  default: {action: allow}\n"})
	res := h.Run(t, "curl", curlMessages(helloBody)...)
	if !strings.Contains(res.Stdout, "permission_error") || !strings.Contains(res.Stdout, "curl is not allowed here") {
		t.Fatalf("inline policy did not decide: %s", res.Stdout)
	}
	if len(h.Upstream.Requests()) != 0 {
		t.Fatal("a denied request reached the upstream")
	}
	if rec := h.LastAudit(t); rec.Decision != "deny" || rec.Rule != "no-curl" {
		t.Fatalf("audit %+v", rec)
	}
}
