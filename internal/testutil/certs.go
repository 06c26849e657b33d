package testutil

import (
	"crypto/tls"
	"net"
	"testing"

	"github.com/airlock-dev/airlock/internal/certgen"
)

// CertOption changes SelfSignedCert's certificate.
type CertOption func(*certgen.Spec)

// CommonName sets the subject's common name (default: the first name).
func CommonName(cn string) CertOption { return func(s *certgen.Spec) { s.CommonName = cn } }

// NotCA makes a plain leaf that cannot anchor trust in itself.
func NotCA() CertOption { return func(s *certgen.Spec) { s.CA = false } }

// SelfSignedCert is a throwaway server certificate for names and ips that
// is its own CA (a client trusts the returned PEM), valid from an hour ago
// for a day. Tests use it for fake servers; the CA under test is tlsmitm's.
func SelfSignedCert(tb testing.TB, names []string, ips []net.IP, opts ...CertOption) (tls.Certificate, []byte) {
	tb.Helper()
	spec := certgen.Spec{DNSNames: names, IPs: ips, CA: true, ServerAuth: true}
	for _, o := range opts {
		o(&spec)
	}
	p, err := certgen.New(spec, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return p.TLS(), p.PEM()
}
