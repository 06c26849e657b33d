package cli

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/tlsmitm"
)

func parsePEMCerts(t *testing.T, data []byte) []*x509.Certificate {
	t.Helper()
	var certs []*x509.Certificate
	for blk, rest := pem.Decode(data); blk != nil; blk, rest = pem.Decode(rest) {
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
	return certs
}

func createCA(t *testing.T, stateDir string) *tlsmitm.Authority {
	t.Helper()
	ca, err := tlsmitm.LoadOrCreateCA(tlsmitm.CAConfig{Dir: filepath.Join(stateDir, "ca"), Hosts: []string{"api.anthropic.com"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestCAExportWithoutCAExplainsFix(t *testing.T) {
	cfg, state := testConfig(t, "")
	run(t, "", "--config", cfg, "ca", "export").wantOneLineError(t, ExitFailure, "cannot load the CA", "airlock install")
	if _, err := os.Stat(filepath.Join(state, "ca", "ca.crt")); err == nil {
		t.Error("ca export created a CA as a side effect")
	}
}

func TestCAExportAndRotate(t *testing.T) {
	cfg, state := testConfig(t, "")
	ca := createCA(t, state)
	r := run(t, "", "--config", cfg, "ca", "export")
	certs := parsePEMCerts(t, []byte(r.out))
	if r.code != 0 || len(certs) != 1 || !certs[0].IsCA || !slices.Equal(certs[0].PermittedDNSDomains, []string{"api.anthropic.com"}) {
		t.Fatalf("export: code %d, %d certs", r.code, len(certs))
	}
	var info struct {
		Fingerprint string `json:"fingerprint_sha256"`
		NotAfter    string `json:"not_after"`
	}
	run(t, "", "--config", cfg, "--json", "ca", "export").decodeJSON(t, &info)
	if info.Fingerprint != ca.Fingerprint() || info.NotAfter == "" {
		t.Errorf("export --json = %+v, want fingerprint %s", info, ca.Fingerprint())
	}
	r = run(t, "", "--config", cfg, "ca", "rotate", "--no-trust")
	if r.code != 0 || !strings.Contains(r.out, "rotated:") || !strings.Contains(r.out, "systemctl restart airlockd") {
		t.Fatalf("rotate: code %d\n%s%s", r.code, r.out, r.err)
	}
	out := filepath.Join(t.TempDir(), "ca.pem")
	if r := run(t, "", "--config", cfg, "ca", "export", "--out", out); r.code != 0 {
		t.Fatal(r.err)
	}
	data, _ := os.ReadFile(out)
	after := parsePEMCerts(t, data)
	if len(after) != 2 || !slices.ContainsFunc(after, func(c *x509.Certificate) bool { return c.Equal(certs[0]) }) {
		t.Errorf("after rotation the bundle has %d certs; want the new CA plus the retired one", len(after))
	}
}

func TestTrustInstallStatusUninstallUnderRoot(t *testing.T) {
	cfg, state := testConfig(t, "")
	createCA(t, state)
	root, _ := installRoot(t)
	r := run(t, "", "--config", cfg, "trust", "install", "--root", root)
	if r.code != 0 || !strings.Contains(r.out, "INSTALLED") {
		t.Fatalf("trust install: code %d\n%s%s", r.code, r.out, r.err)
	}
	if _, err := os.Stat(filepath.Join(root, "usr/local/share/ca-certificates/airlock.crt")); err != nil {
		t.Errorf("CA not placed in the store: %v", err)
	}
	var st struct {
		OK    bool
		Items []struct {
			Name      string
			Installed bool
		}
	}
	run(t, "", "--config", cfg, "--json", "trust", "status", "--root", root).decodeJSON(t, &st)
	// Under --root update-ca-certificates is not run, so the bundle is stale; the rest is in place.
	for _, it := range st.Items {
		if !it.Installed && it.Name != "system bundle" || len(st.Items) < 4 {
			t.Errorf("trust status --json: %+v", st)
		}
	}
	if r := run(t, "", "--config", cfg, "trust", "uninstall", "--root", root); r.code != 0 {
		t.Fatalf("trust uninstall: %s", r.err)
	}
	run(t, "", "--config", cfg, "trust", "status", "--root", root).wantOneLineError(t, ExitFailure, "missing or stale", "airlock trust install")
}
