package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// hostTrustFiles are what `airlock trust install` writes on Debian; inside the
// sandbox they exist, on the host they must not appear.
var hostTrustFiles = []string{"/usr/local/share/ca-certificates/airlock.crt", "/etc/profile.d/airlock.sh",
	"/etc/environment.d/90-airlock.conf", "/etc/systemd/system.conf.d/90-airlock.conf"}

// TestSandboxLeavesHostUntouched: the client saw the API host on the loopback
// target and the CA trusted, while the host's /etc/hosts, trust bundle and
// environment drop-ins stayed as they were.
func TestSandboxLeavesHostUntouched(t *testing.T) {
	before := snapshotHost(t)
	var absent []string
	for _, f := range hostTrustFiles {
		if _, err := os.Stat(f); err != nil {
			absent = append(absent, f)
		}
	}
	h := Start(t, Options{OwnCA: true})
	res := h.Run(t, "sh", "-c", "getent hosts "+APIHost+"; ls /usr/local/share/ca-certificates; echo NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS")
	if !strings.Contains(res.Stdout, TargetAddr) || !strings.Contains(res.Stdout, "airlock.crt") || !strings.Contains(res.Stdout, "NODE_EXTRA_CA_CERTS=/") {
		t.Fatalf("inside the sandbox: %s %s", res.Stdout, res.Stderr)
	}
	if r := h.Run(t, "curl", curlMessages(helloBody)...); r.Code != 0 {
		t.Fatalf("curl with the test's own CA: %d %s", r.Code, r.Stderr)
	}
	if after := snapshotHost(t); after != before {
		t.Fatalf("the host's /etc/hosts or CA bundle changed: %s -> %s", before, after)
	}
	for _, f := range absent {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("the host now has %s", f)
		}
	}
}

// snapshotHost is a digest of the host's /etc/hosts and CA bundle.
func snapshotHost(t *testing.T) string {
	t.Helper()
	h := sha256.New()
	for _, f := range []string{"/etc/hosts", "/etc/ssl/certs/ca-certificates.crt"} {
		data, _ := os.ReadFile(f)
		h.Write([]byte(f + ":"))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))
}
