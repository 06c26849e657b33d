package trust

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/airlock-dev/airlock/internal/testutil"
	"github.com/airlock-dev/airlock/tlsmitm"
)

const (
	nsChildEnv = "AIRLOCK_TRUST_NS_CHILD"
	nsCADirEnv = "AIRLOCK_TRUST_NS_CADIR" // the parent's CA, so it can look for traces of it
)

// hostTrustDirs are every place a real install, the store refresh and its
// hooks (Java's jks-keystore) may write. The child bind-mounts a private copy
// over each, so the host never changes.
var hostTrustDirs = []string{"/etc/ssl", "/etc/profile.d", "/etc/environment.d", "/etc/systemd",
	"/etc/ca-certificates", "/usr/local/share/ca-certificates"}

// hostWatched is what the parent asserts unchanged: the trust paths only,
// not all of /etc/systemd, which other packages' tests may legitimately use.
var hostWatched = []string{"/etc/ssl", "/etc/profile.d", "/etc/environment.d", "/etc/systemd/system.conf.d",
	"/etc/ca-certificates", "/usr/local/share/ca-certificates"}

// TestTrustInMountNamespace runs a real install, doctor check and uninstall
// in a child process inside a private mount namespace, then asserts that the
// host's trust files did not change.
func TestTrustInMountNamespace(t *testing.T) {
	if os.Getenv(nsChildEnv) == "1" {
		trustNamespaceChild(t)
		return
	}
	testutil.RequirePrivileged(t, "mount namespace for a real trust-store install")
	unshare, err := exec.LookPath("unshare")
	testutil.Require(t, err == nil, "unshare is not installed")
	_, err = exec.LookPath("update-ca-certificates")
	testutil.Require(t, err == nil, "update-ca-certificates is not installed (Debian ca-certificates)")
	caDir := filepath.Join(t.TempDir(), "ca")
	ca, err := tlsmitm.LoadOrCreateCA(tlsmitm.CAConfig{Dir: caDir, Hosts: []string{"api.anthropic.com"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := hostSnapshot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, unshare, "--mount", "--propagation", "private",
		os.Args[0], "-test.run=^TestTrustInMountNamespace$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), nsChildEnv+"=1", nsCADirEnv+"="+caDir)
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil || !strings.Contains(string(out), "--- PASS: TestTrustInMountNamespace") {
		t.Errorf("child failed: %v", err)
	}
	assertHostUntouched(t, before, ca.Certificate().Raw)
}

// assertHostUntouched fails if any watched host file holds this test's CA
// (Install always writes the CA before anything else, so any leak of ours
// leaves it). Other changes are reported but not blamed on this test: other
// processes on a shared machine may provision trust concurrently.
func assertHostUntouched(t *testing.T, before map[string]string, der []byte) {
	after := hostSnapshot(t)
	pemLine := base64.StdEncoding.EncodeToString(der)[:64]
	for path := range after {
		b, err := os.ReadFile(path)
		if err == nil && (bytes.Contains(b, der) || bytes.Contains(b, []byte(pemLine))) {
			t.Errorf("the host's %s holds this test's CA: the install escaped the namespace", path)
		}
	}
	for path, sum := range after {
		if before[path] != sum {
			t.Logf("warning: host %s changed during the test without a trace of this test's CA", path)
		}
	}
	for path := range before {
		if _, ok := after[path]; !ok {
			t.Logf("warning: host %s disappeared during the test", path)
		}
	}
}

func hostSnapshot(t *testing.T) map[string]string {
	all := map[string]string{}
	for _, d := range hostWatched {
		for k, v := range snapshot(t, d) {
			all[filepath.Join(d, k)] = v
		}
	}
	return all
}

// privateCopies bind-mounts a copy of each host trust dir over itself.
func privateCopies(t *testing.T) {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		t.Fatalf("making mounts private: %v", err)
	}
	scratch := t.TempDir()
	for i, d := range hostTrustDirs {
		cp := filepath.Join(scratch, strings.ReplaceAll(d, "/", "_")+string(rune('a'+i)))
		if out, err := exec.Command("cp", "-a", d, cp).CombinedOutput(); err != nil {
			t.Fatalf("copying %s: %v %s", d, err, out)
		}
		bindMount(t, cp, d)
	}
	// Debian's update-ca-certificates hooks (ca-certificates-java) run dpkg
	// triggers, which write dpkg's state on the host: mask them. Java trust
	// then comes from Install's own keytool step, which this test checks.
	if _, err := os.Stat("/etc/ca-certificates/update.d"); err == nil {
		bindMount(t, t.TempDir(), "/etc/ca-certificates/update.d")
	}
}

// bindMount mounts src over dst until the test ends (cleanups run in
// reverse, so the unmount comes before the temp dirs are removed).
func bindMount(t *testing.T, src, dst string) {
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind-mounting over %s: %v", dst, err)
	}
	t.Cleanup(func() { unix.Unmount(dst, unix.MNT_DETACH) })
}

func trustNamespaceChild(t *testing.T) {
	privateCopies(t)
	ctx := context.Background()
	ca, err := tlsmitm.LoadOrCreateCA(tlsmitm.CAConfig{Dir: os.Getenv(nsCADirEnv), Hosts: []string{"api.anthropic.com"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.IssueLeaf("api.anthropic.com")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{StateDir: t.TempDir()}
	cleanBaseline(t)
	bundleBefore, _ := os.ReadFile(debianStore.Bundle)
	check := func(wantOK bool) {
		results, err := Check(ctx, CheckConfig{Certificate: leaf, Host: "api.anthropic.com", Timeout: 90 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			t.Logf("%-13s present=%v ok=%v %s", r.Runtime, r.Present, r.OK, r.Detail)
			if r.Present && r.OK != wantOK {
				t.Errorf("%s: ok=%v, want %v (%s; fix: %s)", r.Runtime, r.OK, wantOK, r.Detail, r.Fix)
			}
		}
	}
	for range 2 { // idempotent
		if err := Install(ctx, opts, ca.CertPEM()); err != nil {
			t.Fatal(err)
		}
	}
	assertStatus(t, opts, ca.CertPEM(), true)
	check(true)
	if err := Uninstall(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(debianStore.Bundle); string(after) != string(bundleBefore) {
		t.Error("uninstall left the system bundle different")
	}
	assertStatus(t, opts, ca.CertPEM(), false)
	check(false)
}

func assertStatus(t *testing.T, opts Options, caPEM []byte, want bool) {
	items, err := Status(context.Background(), opts, caPEM)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Installed != want {
			t.Errorf("status %s: installed=%v, want %v (%s)", it.Name, it.Installed, want, it.Detail)
		}
	}
}

// cleanBaseline removes, in the private copies only, Airlock trust that
// something else left on the host, so install and uninstall start from a
// store without it.
func cleanBaseline(t *testing.T) {
	found := false
	for _, f := range []string{debianStore.CAFile, envDropIn, systemDropIn, profileDropIn} {
		if err := os.Remove(f); err == nil {
			found = true
			t.Logf("warning: the host already has %s (not from this test); removed in the namespace copy", f)
		}
	}
	if found {
		if out, err := exec.Command("update-ca-certificates").CombinedOutput(); err != nil {
			t.Fatalf("update-ca-certificates: %v %s", err, out)
		}
	}
}
