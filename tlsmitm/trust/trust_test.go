package trust

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/tlsmitm"
)

func testCA(tb testing.TB) *tlsmitm.Authority {
	tb.Helper()
	a, err := tlsmitm.LoadOrCreateCA(tlsmitm.CAConfig{Dir: filepath.Join(tb.TempDir(), "ca"), Hosts: []string{"api.anthropic.com"}}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// fakeDebian is a minimal Debian tree whose update-ca-certificates (faked
// through Options.Run) appends local CAs to the bundle.
type fakeDebian struct {
	root  string
	calls []string
}

const systemBundle = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"

func newFakeDebian(t *testing.T) *fakeDebian {
	root := t.TempDir()
	for path, data := range map[string]string{
		"etc/debian_version":                    "12.0\n",
		"etc/ssl/certs/ca-certificates.crt":     systemBundle,
		"etc/profile.d/other.sh":                "export OTHER=1\n",
		"usr/local/share/ca-certificates/.keep": "",
	} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(path)), 0o755)
		os.WriteFile(filepath.Join(root, path), []byte(data), 0o644)
	}
	return &fakeDebian{root: root}
}

func (f *fakeDebian) options() Options {
	return Options{Root: f.root, StateDir: "/var/lib/airlock",
		LookPath: func(name string) (string, error) {
			if name == "keytool" {
				return "", fs.ErrNotExist
			}
			return "/usr/sbin/" + name, nil
		},
		Run: func(_ context.Context, name string, args ...string) ([]byte, error) {
			f.calls = append(f.calls, strings.Join(append([]string{name}, args...), " "))
			local, _ := os.ReadFile(filepath.Join(f.root, debianStore.CAFile))
			return nil, os.WriteFile(filepath.Join(f.root, debianStore.Bundle), append([]byte(systemBundle), local...), 0o644)
		}}
}

// snapshot hashes every file and lists every directory under root.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			out[rel] = "dir"
			return nil
		}
		b, _ := os.ReadFile(path)
		sum := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	return out
}

func TestInstallIdempotentAndUninstallExact(t *testing.T) {
	ctx := context.Background()
	f := newFakeDebian(t)
	ca := testCA(t)
	before := snapshot(t, f.root)
	if err := Install(ctx, f.options(), ca.CertPEM()); err != nil {
		t.Fatal(err)
	}
	installed := snapshot(t, f.root)
	assertInstalled(t, f, ca.CertPEM())
	if err := Install(ctx, f.options(), ca.CertPEM()); err != nil {
		t.Fatal(err)
	}
	if again := snapshot(t, f.root); !equalMaps(installed, again) {
		t.Errorf("second install changed the tree:\n%v\n%v", installed, again)
	}
	if err := Uninstall(ctx, f.options()); err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, f.root)
	delete(after, "var") // the state dir itself is Airlock's and may stay
	delete(after, "var/lib")
	delete(after, "var/lib/airlock")
	if !equalMaps(before, after) {
		t.Errorf("uninstall did not restore the tree:\nbefore %v\nafter  %v", before, after)
	}
	// --fresh on uninstall: without it Debian keeps the removed CA's symlinks.
	if len(f.calls) != 2 || f.calls[0] != "update-ca-certificates" || f.calls[1] != "update-ca-certificates --fresh" {
		t.Errorf("store refresh calls = %v, want update-ca-certificates on the first install and --fresh on uninstall", f.calls)
	}
}

func assertInstalled(t *testing.T, f *fakeDebian, caPEM []byte) {
	t.Helper()
	profile, _ := os.ReadFile(filepath.Join(f.root, profileDropIn))
	for _, want := range []string{
		`export NODE_EXTRA_CA_CERTS="/usr/local/share/ca-certificates/airlock.crt"`,
		`export SSL_CERT_FILE="/etc/ssl/certs/ca-certificates.crt"`,
		`export REQUESTS_CA_BUNDLE="/etc/ssl/certs/ca-certificates.crt"`,
	} {
		if !strings.Contains(string(profile), want) {
			t.Errorf("profile.d drop-in lacks %q:\n%s", want, profile)
		}
	}
	sysd, _ := os.ReadFile(filepath.Join(f.root, systemDropIn))
	if !strings.Contains(string(sysd), "[Manager]\nDefaultEnvironment=\"NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/airlock.crt\"") {
		t.Errorf("systemd drop-in:\n%s", sysd)
	}
	envd, _ := os.ReadFile(filepath.Join(f.root, envDropIn))
	if !strings.Contains(string(envd), "\nSSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt\n") {
		t.Errorf("environment.d drop-in:\n%s", envd)
	}
	items, err := Status(context.Background(), f.options(), caPEM)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if !it.Installed {
			t.Errorf("status: %s not installed: %s", it.Name, it.Detail)
		}
	}
}

func TestStatusBeforeInstall(t *testing.T) {
	f := newFakeDebian(t)
	items, err := Status(context.Background(), f.options(), testCA(t).CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 5 {
		t.Fatalf("status has %d items, want 5: %+v", len(items), items)
	}
	for _, it := range items {
		if it.Installed || !strings.Contains(it.Detail, "airlock trust install") {
			t.Errorf("%s: installed=%v detail=%q, want missing with a fix", it.Name, it.Installed, it.Detail)
		}
	}
}

// On a test tree, commands must not run unless injected: they would change
// the host's store.
func TestTestTreeNeverRunsHostCommands(t *testing.T) {
	f := newFakeDebian(t)
	opts := f.options()
	opts.Run = nil
	opts.LookPath = func(string) (string, error) { t.Fatal("looked up a host command"); return "", nil }
	if err := Install(context.Background(), opts, testCA(t).CertPEM()); err != nil {
		t.Fatal(err)
	}
}

func TestInstallRejectsBadInput(t *testing.T) {
	f := newFakeDebian(t)
	if err := Install(context.Background(), f.options(), []byte("not pem")); err == nil {
		t.Error("installed a bundle without certificates")
	}
	if err := Install(context.Background(), Options{Root: t.TempDir()}, testCA(t).CertPEM()); err != ErrNoStore {
		t.Errorf("unknown distro: err %v, want ErrNoStore", err)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
