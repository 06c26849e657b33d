package tlsmitm

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

func TestCAProperties(t *testing.T) {
	a := newTestCA(t)
	c := a.Certificate()
	if !c.IsCA || !c.BasicConstraintsValid || c.MaxPathLen != 0 || !c.MaxPathLenZero {
		t.Errorf("basic constraints: IsCA=%v MaxPathLen=%d zero=%v", c.IsCA, c.MaxPathLen, c.MaxPathLenZero)
	}
	if c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("key usage = %v, want cert-sign|crl-sign only", c.KeyUsage)
	}
	if !c.PermittedDNSDomainsCritical || strings.Join(c.PermittedDNSDomains, ",") != strings.Join(testHosts, ",") {
		t.Errorf("name constraints: critical=%v permitted=%v", c.PermittedDNSDomainsCritical, c.PermittedDNSDomains)
	}
	if len(c.ExcludedIPRanges) != 2 {
		t.Errorf("excluded IP ranges = %v, want all of IPv4 and IPv6", c.ExcludedIPRanges)
	}
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("public key %T, want ECDSA P-256", c.PublicKey)
	}
	if len(c.SubjectKeyId) == 0 {
		t.Error("no subject key id")
	}
	if time.Until(c.NotAfter) > 10*365*24*time.Hour+time.Minute {
		t.Errorf("CA valid until %v: more than 10 years", c.NotAfter)
	}
	if c.SerialNumber.BitLen() > 128 || c.SerialNumber.Sign() <= 0 {
		t.Errorf("serial %v: want positive, at most 128 bits", c.SerialNumber)
	}
}

func TestCAFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "ca")
	a, err := LoadOrCreateCA(CAConfig{Dir: dir, Hosts: testHosts}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, caKeyFile): 0o400, filepath.Join(dir, caCertFile): 0o644} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v err %v, want %v", path, fi.Mode().Perm(), err, want)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
	os.Chmod(dir, 0o755)
	again, err := LoadOrCreateCA(CAConfig{Dir: dir, Hosts: testHosts}, nil)
	if err != nil || again.Fingerprint() != a.Fingerprint() {
		t.Fatalf("reload: err %v, fingerprint %s != %s", err, again.Fingerprint(), a.Fingerprint())
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("a 0755 CA dir was left at %v", fi.Mode().Perm())
	}
}

func TestCARefusesReadableKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	if _, err := LoadOrCreateCA(CAConfig{Dir: dir, Hosts: testHosts}, nil); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o440, 0o404, 0o644} {
		if err := os.Chmod(filepath.Join(dir, caKeyFile), mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadOrCreateCA(CAConfig{Dir: dir, Hosts: testHosts}, nil)
		if !errors.Is(err, ErrKeyPermissions) || !strings.Contains(err.Error(), "chmod 0400") {
			t.Errorf("mode %v: err = %v, want ErrKeyPermissions with a fix", mode, err)
		}
	}
}

// A leaf for a host outside the name constraints, signed with the CA's own
// key, must not verify: a stolen CA cannot impersonate other sites.
func TestNameConstraintsRejectOtherHosts(t *testing.T) {
	a := newTestCA(t)
	ca, _ := a.signer()
	roots := caPool(t, a)
	for _, name := range []string{"example.com", "anthropic.com", "api.anthropic.com.evil.example", "console.anthropic.com"} {
		leaf, err := signLeaf(ca, name, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		_, err = leaf.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name})
		var inv x509.CertificateInvalidError
		if !errors.As(err, &inv) || inv.Reason != x509.CANotAuthorizedForThisName {
			t.Errorf("leaf for %s: Verify err = %v, want CANotAuthorizedForThisName", name, err)
		}
	}
	leaf, err := signLeaf(ca, testHost, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: testHost}); err != nil {
		t.Errorf("leaf for the API host does not verify: %v", err)
	}
}

func TestRotateKeepsOldCATrusted(t *testing.T) {
	cfg := CAConfig{Dir: filepath.Join(t.TempDir(), "ca"), Hosts: testHosts}
	old, err := LoadOrCreateCA(cfg, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	oldLeaf, err := old.IssueLeaf(testHost)
	if err != nil {
		t.Fatal(err)
	}
	if err := RotateCA(cfg); err != nil {
		t.Fatal(err)
	}
	cur, err := LoadOrCreateCA(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Fingerprint() == old.Fingerprint() {
		t.Fatal("rotation kept the same CA")
	}
	if n := strings.Count(string(cur.CertPEM()), "BEGIN CERTIFICATE"); n != 2 {
		t.Fatalf("CertPEM holds %d certificates after rotation, want current + retired", n)
	}
	if _, err := oldLeaf.Leaf.Verify(x509.VerifyOptions{Roots: caPool(t, cur), DNSName: testHost}); err != nil {
		t.Errorf("leaf of the retired CA no longer verifies against the exported bundle: %v", err)
	}
	retired, _ := store{dir: cfg.Dir}.loadRetired(time.Now().Add(leafValidity + 2*leafBackdate))
	if len(retired) != 0 {
		t.Errorf("retired CA still exported after all its leaves expired")
	}
}

func TestReloadRemintsCachedLeaves(t *testing.T) {
	cfg := CAConfig{Dir: filepath.Join(t.TempDir(), "ca"), Hosts: testHosts}
	a, err := LoadOrCreateCA(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	leaves := NewLeaves(a, 0)
	before, _ := leaves.Get(testHost)
	if err := RotateCA(cfg); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	after, err := leaves.Get(testHost)
	if err != nil {
		t.Fatal(err)
	}
	if after == before || string(after.Leaf.AuthorityKeyId) != string(a.Certificate().SubjectKeyId) {
		t.Error("cached leaf of the old CA was reused after rotation")
	}
}

func TestCAHostsChangedNeedsRotation(t *testing.T) {
	cfg := CAConfig{Dir: filepath.Join(t.TempDir(), "ca"), Hosts: testHosts}
	if _, err := LoadOrCreateCA(cfg, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateCA(CAConfig{Dir: cfg.Dir, Hosts: []string{"api-staging.anthropic.com", "API.anthropic.com"}}, nil); err != nil {
		t.Errorf("same hosts in another order and case refused: %v", err)
	}
	cfg.Hosts = append(cfg.Hosts, "new.api.example")
	if _, err := LoadOrCreateCA(cfg, nil); !errors.Is(err, ErrHostsChanged) {
		t.Fatalf("new host with the old CA: err %v, want ErrHostsChanged", err)
	}
	if err := RotateCA(cfg); err != nil {
		t.Fatal(err)
	}
	a, err := LoadOrCreateCA(cfg, nil)
	if err != nil || !a.Allowed("new.api.example") {
		t.Fatalf("after rotation: %v", err)
	}
}
