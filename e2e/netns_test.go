package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/airlock-dev/airlock/admin"
	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/internal/testutil"
)

// netnsRetry makes curl retry a connect refused at first contact (the
// daemon opens the namespace's listener on that report), as a client's own
// retry would.
var netnsRetry = []string{"--retry", "20", "--retry-all-errors", "--retry-delay", "1"}

// netnsPrompt carries a fake secret the upstream must only see masked.
var netnsPrompt = `{"model":"claude-haiku-4-5","max_tokens":64,"messages":[{"role":"user","content":"from a namespace: ` + fakeAnthropic + `"}]}`

// TestNetnsCurl runs unmodified curl in network namespaces of its own, where
// api.anthropic.com is a loopback address with nothing behind it: under
// `unshare -n` and under `ip netns exec`. Each request is intercepted, the
// upstream sees only the managed key and the masked prompt, and the audit
// names the client's namespace.
func TestNetnsCurl(t *testing.T) {
	h := Start(t, Options{})
	name := testutil.RandomName("airlock-e2e-ns-")
	for _, args := range [][]string{{"netns", "add", name}, {"-n", name, "link", "set", "lo", "up"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	wrappers := map[string][]string{
		"unshare":  {"unshare", "-n", "sh", "-c", `ip link set lo up && exec curl "$@"`, "sh"},
		"ip-netns": {"ip", "netns", "exec", name, "curl"},
	}
	n := 0
	for _, label := range []string{"unshare", "ip-netns"} {
		w := wrappers[label]
		res := h.Run(t, w[0], append(append(w[1:], netnsRetry...), curlMessages(netnsPrompt)...)...)
		if res.Code != 0 || !strings.Contains(res.Stdout, `"type":"message"`) {
			t.Fatalf("%s curl: exit %d\n%s\n%s\ndaemon:\n%s", label, res.Code, res.Stdout, res.Stderr, h.Log())
		}
		n++
		h.AssertUpstreamGotOnlyManagedKey(t, n, leakedCurlKey, fakeAnthropic)
		assertMaskedUpstream(t, h, n-1)
		assertNetnsAudit(t, h.LastAudit(t), label)
	}
}

func assertMaskedUpstream(t *testing.T, h *Harness, i int) {
	t.Helper()
	body := string(h.Upstream.Requests()[i].Body)
	if !anthropicPlaceholder.MatchString(body) {
		t.Errorf("upstream body %s: want the prompt's secret masked", body)
	}
}

// assertNetnsAudit: the record names a network namespace other than the
// host's (this test process runs in the host's).
func assertNetnsAudit(t *testing.T, rec audit.Record, label string) {
	t.Helper()
	host := hostNetnsCookie(t)
	if rec.Caller.Netns == 0 || rec.Caller.Netns == host || rec.Caller.Comm != "curl" {
		t.Errorf("%s: audit caller netns %d comm %q, want curl in a namespace other than the host's (%d)",
			label, rec.Caller.Netns, rec.Caller.Comm, host)
	}
}

func hostNetnsCookie(t *testing.T) uint64 {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	c, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, 71) // SO_NETNS_COOKIE
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestNetnsRaceCurl starts 100 network namespaces back to back, each running
// curl at once, without retries: a first contact that races its listener is
// held until it opens, so every request reaches the upstream with only the
// managed key, none with the leaked one, and the daemon reports no refusal.
func TestNetnsRaceCurl(t *testing.T) {
	const n = 100
	h := Start(t, Options{Timeout: 5 * time.Minute})
	args := strings.Join(quoteAll(append([]string{"curl"}, curlMessages(netnsPrompt)...)), " ")
	script := fmt.Sprintf(`fails=0
for i in $(seq %d); do unshare -n sh -c 'ip link set lo up && exec "$@" >/dev/null' sh %s & done
for job in $(jobs -p); do wait "$job" || fails=$((fails+1)); done
echo "failed=$fails"`, n, args)
	res := h.Run(t, "bash", "-c", script)
	if res.Code != 0 || !strings.Contains(res.Stdout, "failed=0") {
		t.Fatalf("%d namespaced curls: %s\n%s\ndaemon:\n%s", n, res.Stdout, res.Stderr, h.Log())
	}
	h.AssertUpstreamGotOnlyManagedKey(t, n, leakedCurlKey, fakeAnthropic)
	st := h.Airlock(t, "status", "--json")
	var status struct {
		Capture admin.CaptureStatus `json:"capture"`
	}
	if err := json.Unmarshal([]byte(st.Stdout), &status); err != nil {
		t.Fatalf("status: %v\n%s", err, st.Stdout)
	}
	ns := status.Capture.Namespaces
	t.Logf("%d namespaces: %d first-contact refusals, %d held (kernel counters refused %d, held %d, passed %d); status %+v",
		n, ns.Refused, ns.Held, status.Capture.Counters["netns_refused"], status.Capture.Counters["netns_held"],
		status.Capture.Counters["netns_held_passed"], ns)
	if ns.Opened < n || ns.Refused != 0 || ns.HeldPassed < ns.Held {
		t.Errorf("status namespaces %+v: want at least %d opened, none refused, every held connection let through", ns, n)
	}
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = shellQuote(a)
	}
	return out
}
