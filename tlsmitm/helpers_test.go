package tlsmitm

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap"
)

const testHost = "api.anthropic.com"

var testHosts = []string{testHost, "api-staging.anthropic.com"}

// newTestCA creates a CA in a temp dir constrained to hosts.
func newTestCA(tb testing.TB, hosts ...string) *Authority {
	tb.Helper()
	if len(hosts) == 0 {
		hosts = testHosts
	}
	a, err := LoadOrCreateCA(CAConfig{Dir: filepath.Join(tb.TempDir(), "ca"), Hosts: hosts}, zap.NewNop())
	if err != nil {
		tb.Fatalf("LoadOrCreateCA: %v", err)
	}
	return a
}

// caPool is a pool holding every certificate the Authority exports.
func caPool(tb testing.TB, a *Authority) *x509.CertPool {
	tb.Helper()
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(a.CertPEM()) {
		tb.Fatal("CertPEM holds no certificate")
	}
	return p
}

// writeCAFile writes the Authority's bundle to a file for curl --cacert.
func writeCAFile(tb testing.TB, a *Authority) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "airlock-ca.pem")
	if err := os.WriteFile(path, a.CertPEM(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}
