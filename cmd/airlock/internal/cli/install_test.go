package cli

import (
	"crypto/x509"
	"encoding/pem"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// snapshot lists every path under root with its mode.
func snapshot(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, rel+" "+info.Mode().String())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// installRoot is a root prefix with a Debian-like trust store and a release
// directory holding a stand-in airlockd.
func installRoot(t *testing.T) (root, from string) {
	t.Helper()
	root, from = t.TempDir(), t.TempDir()
	for _, d := range []string{"usr/local/share/ca-certificates", "etc/ssl/certs"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(from, "airlockd"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root, from
}

func TestInstallUninstallUnderRootLeavesNothing(t *testing.T) {
	root, from := installRoot(t)
	before := snapshot(t, root)
	r := run(t, "", "install", "--root", root, "--from", from, "--deploy-dir", repoFile("deploy"))
	if r.code != 0 {
		t.Fatalf("install: code %d\n%s\n%s", r.code, r.out, r.err)
	}
	for _, want := range []string{"systemctl is not run", "usr/local/bin/airlockd", "Installed."} {
		if !strings.Contains(r.out, want) {
			t.Errorf("install output lacks %q:\n%s", want, r.out)
		}
	}
	assertInstalled(t, root)
	r = run(t, "", "uninstall", "--root", root)
	if r.code != 0 {
		t.Fatalf("uninstall: code %d\n%s\n%s", r.code, r.out, r.err)
	}
	if after := snapshot(t, root); !slices.Equal(before, after) {
		t.Errorf("uninstall did not restore the tree:\nbefore %v\nafter  %v", before, after)
	}
}

func assertInstalled(t *testing.T, root string) {
	t.Helper()
	at := func(p string) string { return filepath.Join(root, p) }
	for _, p := range []string{"usr/local/bin/airlock", "usr/local/bin/airlockd", "etc/airlock/airlock.yaml",
		"etc/airlock/policy.yaml", "etc/systemd/system/airlockd.service", "var/lib/airlock/install-manifest.json",
		"usr/local/share/ca-certificates/airlock.crt", "etc/profile.d/airlock.sh"} {
		if _, err := os.Stat(at(p)); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}
	if st, err := os.Stat(at("var/lib/airlock")); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("state dir: %v, %v (want 0700)", st, err)
	}
	data, err := os.ReadFile(at("usr/local/share/ca-certificates/airlock.crt"))
	blk, _ := pem.Decode(data)
	if err != nil || blk == nil {
		t.Fatalf("trusted CA file: %v", err)
	}
	ca, err := x509.ParseCertificate(blk.Bytes)
	if err != nil || !ca.IsCA || !slices.Contains(ca.PermittedDNSDomains, "api.anthropic.com") {
		t.Errorf("trusted CA is not Airlock's name-constrained CA: %v %+v", err, ca)
	}
}

func TestInstallJSONAndReinstallIsIdempotent(t *testing.T) {
	root, from := installRoot(t)
	before := snapshot(t, root)
	args := []string{"--json", "install", "--root", root, "--from", from, "--deploy-dir", repoFile("deploy"), "--skip-trust"}
	var first struct {
		OK    bool
		Steps []struct{ Name, Status, Detail string }
	}
	run(t, "", args...).decodeJSON(t, &first)
	if !first.OK || len(first.Steps) == 0 {
		t.Fatalf("first install: %+v", first)
	}
	var second struct {
		OK    bool
		Steps []struct{ Name, Status string }
	}
	r := run(t, "", args...)
	r.decodeJSON(t, &second)
	if !second.OK {
		t.Fatalf("second install: %s %s", r.out, r.err)
	}
	for _, s := range second.Steps {
		if s.Name == "config" && s.Status != "kept" || s.Name == "ca" && s.Status != "kept" {
			t.Errorf("reinstall step %s = %s, want kept", s.Name, s.Status)
		}
	}
	if r := run(t, "", "uninstall", "--root", root); r.code != 0 {
		t.Fatalf("uninstall: %s %s", r.out, r.err)
	}
	if after := snapshot(t, root); !slices.Equal(before, after) {
		t.Errorf("uninstall after a reinstall did not restore the tree:\nbefore %v\nafter  %v", before, after)
	}
}

func TestInstallErrorsAreOneLineWithFix(t *testing.T) {
	root, _ := installRoot(t)
	r := run(t, "", "install", "--root", root, "--from", t.TempDir())
	r.wantOneLineError(t, ExitFailure, "airlockd not found", "--from DIR")
	r = run(t, "", "uninstall", "--root", root)
	if r.code != 0 || !strings.Contains(r.out, "No install manifest") {
		t.Errorf("uninstall with nothing installed: code %d, out %q, err %q", r.code, r.out, r.err)
	}
}

func TestUninstallKeepsEditedConfigUnlessPurge(t *testing.T) {
	root, from := installRoot(t)
	if r := run(t, "", "install", "--root", root, "--from", from, "--deploy-dir", repoFile("deploy"), "--skip-trust"); r.code != 0 {
		t.Fatalf("install: %s %s", r.out, r.err)
	}
	cfg := filepath.Join(root, "etc/airlock/airlock.yaml")
	if err := os.WriteFile(cfg, []byte("state_dir: /var/lib/airlock\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "uninstall", "--root", root)
	if _, err := os.Stat(cfg); err != nil || !strings.Contains(r.out, "edited after install") {
		t.Fatalf("edited config removed or not reported: %v\n%s", err, r.out)
	}
	// The manifest is gone: the kept config is now the operator's.
	if _, err := os.Stat(filepath.Join(root, "var/lib/airlock")); err == nil {
		t.Errorf("state dir left behind")
	}
}

func TestInstallStoresKeyFromStdin(t *testing.T) {
	root, from := installRoot(t)
	before := snapshot(t, root)
	const key = "sk-ant-api03-FAKE-demo-key-not-real\n"
	r := run(t, key, "install", "--root", root, "--from", from, "--deploy-dir", repoFile("deploy"), "--skip-trust", "--key-file", "-")
	if r.code != 0 || strings.Contains(r.out+r.err, "FAKE-demo") {
		t.Fatalf("install: code %d (and the key must never be printed)\n%s%s", r.code, r.out, r.err)
	}
	path := filepath.Join(root, "etc/airlock/credentials/anthropic-api-key") // the example unit's LoadCredential=
	st, err := os.Stat(path)
	if got, _ := os.ReadFile(path); err != nil || st.Mode().Perm() != 0o600 || string(got) != key {
		t.Fatalf("stored key: %v, mode %v", err, st)
	}
	if r := run(t, "", "uninstall", "--root", root); r.code != 0 {
		t.Fatal(r.err)
	}
	if after := snapshot(t, root); !slices.Equal(before, after) {
		t.Errorf("uninstall left the key or its directory:\nbefore %v\nafter  %v", before, after)
	}
	run(t, "", "install", "--root", root, "--from", from, "--deploy-dir", repoFile("deploy"), "--key-file", "-").
		wantOneLineError(t, ExitUsage, "--key-file - is empty")
}

func TestInstallWithoutKeySaysWhereItGoes(t *testing.T) {
	root, from := installRoot(t)
	r := run(t, "", "install", "--root", root, "--from", from, "--deploy-dir", repoFile("deploy"), "--skip-trust")
	if r.code != 0 || !strings.Contains(r.out, "no managed key at /etc/airlock/credentials/anthropic-api-key") {
		t.Errorf("install without a key: code %d\n%s%s", r.code, r.out, r.err)
	}
	run(t, "", "uninstall", "--root", root)
}
