package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/internal/testutil"
)

// unitCapabilities reads CapabilityBoundingSet from deploy/airlockd.service.
func unitCapabilities(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(moduleRoot(), "deploy", "airlockd.service"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapabilityBoundingSet="); ok {
			return strings.Fields(v)
		}
	}
	t.Fatal("deploy/airlockd.service has no CapabilityBoundingSet=")
	return nil
}

// TestUnitCapabilitiesSuffice starts airlockd with exactly the capability
// bounding set of the systemd unit and proves a request goes end to end: the
// unit's set is neither a guess nor too small.
func TestUnitCapabilitiesSuffice(t *testing.T) {
	_, err := exec.LookPath("setpriv")
	testutil.Require(t, err == nil, "setpriv (util-linux) is not installed")
	set := "-all"
	for _, c := range unitCapabilities(t) {
		set += ",+" + strings.ToLower(strings.TrimPrefix(c, "CAP_"))
	}
	h := Start(t, Options{Wrapper: []string{"setpriv", "--bounding-set=" + set, "--inh-caps=-all"}})
	res := h.Run(t, "curl", curlMessages(helloBody)...)
	if res.Code != 0 || !strings.Contains(res.Stdout, `"type":"message"`) {
		t.Fatalf("with the unit's capabilities: exit %d %s %s\n%s", res.Code, res.Stdout, res.Stderr, h.Log())
	}
	h.AssertUpstreamGotOnlyManagedKey(t, 1, leakedCurlKey)
	if rec := h.LastAudit(t); rec.Caller.Exe == "" || rec.Caller.Comm != "curl" {
		t.Fatalf("process attribution incomplete with the unit's capabilities: %+v", rec.Caller)
	}
	// A client in a network namespace of its own: the daemon must be able to
	// enter it (setns) to open a listener there.
	res = h.Run(t, "unshare", append([]string{"-n", "sh", "-c", `ip link set lo up && exec curl "$@"`, "sh"},
		append(netnsRetry, curlMessages(helloBody)...)...)...)
	if res.Code != 0 || !strings.Contains(res.Stdout, `"type":"message"`) {
		t.Fatalf("netns client with the unit's capabilities: exit %d %s %s\n%s", res.Code, res.Stdout, res.Stderr, h.Log())
	}
	h.AssertUpstreamGotOnlyManagedKey(t, 2, leakedCurlKey)
}
