//go:build linux

package containers

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

const fakeCA = "-----BEGIN CERTIFICATE-----\nRkFLRS1BSVJMT0NLLUNB\n-----END CERTIFICATE-----\n"

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, data := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTrustRoundTrip: per image family, install appends the CA to the
// bundle that exists (and the anchor where its directory exists), twice is
// once, and uninstall restores the bundle byte for byte.
func TestTrustRoundTrip(t *testing.T) {
	families := map[string]map[string]string{
		"debian":     {"etc/ssl/certs/ca-certificates.crt": "ROOTS\n", "usr/local/share/ca-certificates/.keep": ""},
		"alpine":     {"etc/ssl/certs/ca-certificates.crt": "ROOTS\n", "etc/ssl/cert.pem": "ROOTS"},
		"rhel":       {"etc/pki/tls/certs/ca-bundle.crt": "ROOTS\n", "etc/pki/ca-trust/source/anchors/.keep": ""},
		"distroless": {"etc/ssl/certs/ca-certificates.crt": "ROOTS\n"},
	}
	for name, files := range families {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, files)
			rec, err := InstallTrust(root, "c1", []byte(fakeCA))
			if err == nil {
				_, err = InstallTrust(root, "c1", []byte(fakeCA))
			}
			if err != nil || len(rec.Appended) == 0 {
				t.Fatalf("install: %+v, %v", rec, err)
			}
			for _, b := range rec.Appended {
				data, _ := os.ReadFile(filepath.Join(root, b))
				if bytes.Count(data, []byte("RkFLRS1BSVJMT0NLLUNB")) != 1 {
					t.Errorf("%s after two installs:\n%s", b, data)
				}
			}
			if err := UninstallTrust(root, rec); err != nil {
				t.Fatal(err)
			}
			for p, want := range files {
				if got, _ := os.ReadFile(filepath.Join(root, p)); string(got) != want {
					t.Errorf("%s after uninstall = %q, want %q", p, got, want)
				}
			}
			for _, a := range rec.Anchors {
				if _, err := os.Stat(filepath.Join(root, a)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("anchor %s left behind", a)
				}
			}
		})
	}
}

// TestTrustHostileSymlink: an image whose bundle is a symlink to a host
// path cannot make install write outside the container's root.
func TestTrustHostileSymlink(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "host-file")
	if err := os.WriteFile(outside, []byte("HOST\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	writeTree(t, root, map[string]string{"etc/pki/tls/certs/ca-bundle.crt": "ROOTS\n"})
	if err := os.MkdirAll(filepath.Join(root, "etc/ssl/certs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "etc/ssl/certs/ca-certificates.crt")); err != nil {
		t.Fatal(err)
	}
	if _, err := InstallTrust(root, "c2", []byte(fakeCA)); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(outside); string(got) != "HOST\n" {
		t.Errorf("the host file behind the symlink was changed: %q", got)
	}
}

// TestHostRootRefused: the host's own root (what a runtime's init process
// shows before it pivots into the image) is recognised, so InstallTrust
// refuses it; a container's tree is not the host's.
func TestHostRootRefused(t *testing.T) {
	if !IsHostRoot("/") || !IsHostRoot(RootOf(os.Getpid())) || !IsHostRoot("/nonexistent-root") {
		t.Errorf("the host's root (or an unreadable one) not recognised")
	}
	if IsHostRoot(t.TempDir()) {
		t.Errorf("a directory tree taken for the host's root")
	}
}
