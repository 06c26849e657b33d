package certgen

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"testing"
)

// A leaf chained to a throwaway CA verifies for its names and addresses and
// for nothing else; a leaf that is not a CA cannot sign.
func TestChainVerifies(t *testing.T) {
	ca, err := New(Spec{CommonName: "test CA", CA: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := New(Spec{DNSNames: []string{"api.example.test"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, ServerAuth: true}, ca)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	for _, name := range []string{"api.example.test", "127.0.0.1"} {
		if _, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "other.example.test"}); err == nil {
		t.Error("the leaf verified for a name it does not carry")
	}
	if leaf.Cert.Subject.CommonName != "api.example.test" || leaf.TLS(ca).Certificate[1][0] == 0 {
		t.Errorf("common name %q, chain %d", leaf.Cert.Subject.CommonName, len(leaf.TLS(ca).Certificate))
	}
	grand, err := New(Spec{DNSNames: []string{"x.example.test"}}, leaf)
	if err == nil {
		if _, err := grand.Cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: pool(leaf.Cert)}); err == nil {
			t.Error("a certificate signed by a non-CA leaf verified")
		}
	}
	if b, _ := pem.Decode(ca.PEM()); b == nil || b.Type != "CERTIFICATE" {
		t.Error("PEM is not a certificate")
	}
	if k, err := leaf.KeyPEM(); err != nil {
		t.Error(err)
	} else if b, _ := pem.Decode(k); b == nil || b.Type != "PRIVATE KEY" {
		t.Error("KeyPEM is not a PKCS #8 private key")
	}
}

func pool(c *x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c)
	return p
}
