package tlsmitm

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/airlock-dev/airlock/internal/certgen"
)

// mintWithCAKey signs a variant of an API-host leaf with the CA's own key, as
// a thief holding ca.key would: edit changes the template before signing.
func mintWithCAKey(tb testing.TB, a *Authority, edit func(*x509.Certificate)) *x509.Certificate {
	tb.Helper()
	ca, _ := a.signer()
	leaf, err := certgen.New(certgen.Spec{DNSNames: []string{testHost}, ServerAuth: true, Edit: edit},
		&certgen.Pair{Cert: ca.cert, Key: ca.key})
	if err != nil {
		tb.Fatal(err)
	}
	return leaf.Cert
}

// The CA may sign TLS server certificates for the API hosts and nothing
// else: every other identity kind and every other use must fail to verify.
func TestCAScopeRejectsOtherKindsAndUses(t *testing.T) {
	a := newTestCA(t)
	roots := caPool(t, a)
	cases := []struct {
		name  string
		edit  func(*x509.Certificate)
		usage x509.ExtKeyUsage
	}{
		{"IP address", func(c *x509.Certificate) { c.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")} }, x509.ExtKeyUsageServerAuth},
		{"IPv6 address", func(c *x509.Certificate) { c.IPAddresses = []net.IP{net.ParseIP("::1")} }, x509.ExtKeyUsageServerAuth},
		{"email address", func(c *x509.Certificate) { c.EmailAddresses = []string{"ceo@example.com"} }, x509.ExtKeyUsageServerAuth},
		{"URI", func(c *x509.Certificate) { c.URIs = []*url.URL{{Scheme: "spiffe", Host: "example.org", Path: "/w"}} }, x509.ExtKeyUsageServerAuth},
		{"code signing", eku(x509.ExtKeyUsageCodeSigning), x509.ExtKeyUsageCodeSigning},
		{"email protection", eku(x509.ExtKeyUsageEmailProtection), x509.ExtKeyUsageEmailProtection},
		{"client auth", eku(x509.ExtKeyUsageClientAuth), x509.ExtKeyUsageClientAuth},
		{"any use", eku(x509.ExtKeyUsageAny), x509.ExtKeyUsageTimeStamping},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mintWithCAKey(t, a, tc.edit)
			opts := x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{tc.usage}}
			if _, err := c.Verify(opts); err == nil {
				t.Errorf("a leaf with %s verified for %v; the CA must not vouch for it", tc.name, tc.usage)
			}
		})
	}
	plain := mintWithCAKey(t, a, func(*x509.Certificate) {})
	if _, err := plain.Verify(x509.VerifyOptions{Roots: roots, DNSName: testHost}); err != nil {
		t.Errorf("the API host's server certificate must still verify: %v", err)
	}
}

func eku(u x509.ExtKeyUsage) func(*x509.Certificate) {
	return func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{u} }
}

// OpenSSL, the stack curl and Python use, must read the constraints the same
// way: the server purpose verifies, the S/MIME and code-signing-like
// purposes and an email identity do not.
func TestCAScopeUnderOpenSSL(t *testing.T) {
	openssl := lookPath(t, "openssl")
	a := newTestCA(t)
	dir := t.TempDir()
	caFile := writeCAFile(t, a)
	leafFile := writePEM(t, dir, "leaf.pem", mintWithCAKey(t, a, func(*x509.Certificate) {}))
	mailFile := writePEM(t, dir, "mail.pem", mintWithCAKey(t, a, func(c *x509.Certificate) {
		c.EmailAddresses = []string{"ceo@example.com"}
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}
	}))
	verify := func(purpose, file string) error {
		out, err := exec.Command(openssl, "verify", "-CAfile", caFile, "-purpose", purpose, file).CombinedOutput()
		t.Logf("openssl verify -purpose %s %s: %s", purpose, filepath.Base(file), out)
		return err
	}
	if err := verify("sslserver", leafFile); err != nil {
		t.Errorf("OpenSSL refused the API host's server certificate: %v", err)
	}
	for _, purpose := range []string{"sslclient", "smimesign", "smimeencrypt"} {
		if verify(purpose, leafFile) == nil {
			t.Errorf("OpenSSL accepted the leaf for %s", purpose)
		}
	}
	if verify("smimesign", mailFile) == nil {
		t.Error("OpenSSL accepted an S/MIME certificate signed by the Airlock CA")
	}
}

func writePEM(tb testing.TB, dir, name string, c *x509.Certificate) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// Java parses name constraints strictly (an empty subtree makes the whole
// certificate unreadable): its keytool must read the CA.
func TestCAParsesInJava(t *testing.T) {
	keytool := lookPath(t, "keytool")
	out, err := exec.Command(keytool, "-printcert", "-file", writeCAFile(t, newTestCA(t))).CombinedOutput()
	if err != nil {
		t.Fatalf("keytool cannot read the Airlock CA: %v\n%s", err, out)
	}
}

// lookPath finds a real TLS stack's tool; the install script provides them,
// so a missing one is a failure, not a skip.
func lookPath(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		tb.Fatalf("%s not found: scripts/install-deps.sh installs it", name)
	}
	return p
}
