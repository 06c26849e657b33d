// Package certgen issues the certificates that are not Airlock's CA's:
// throwaway ones for fake servers and the benchmark's peers, and the
// console's self-signed serving certificate. It does not import testing, so
// non-test code may use it; tests reach it through testutil.SelfSignedCert.
// Leaves for the API hosts come from tlsmitm's name-constrained CA, never
// from here.
package certgen

import (
	"cmp"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Spec describes a certificate.
type Spec struct {
	CommonName string // default: the first DNS name, else "airlock test certificate"
	DNSNames   []string
	IPs        []net.IP
	CA         bool          // may sign certificates (and, self-signed, anchors trust in itself)
	ServerAuth bool          // for a TLS server (extended key usage serverAuth)
	Validity   time.Duration // from an hour ago; 0 = one day
	// Edit changes the template last, before signing: for certificates a
	// test wants wrong on purpose.
	Edit func(*x509.Certificate)
}

// Pair is a certificate and its private key.
type Pair struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// New issues spec with a fresh P-256 key, signed by parent (self-signed
// when parent is nil).
func New(spec Spec, parent *Pair) (*Pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating a key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("generating a serial: %w", err)
	}
	tmpl := spec.template(serial)
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		return nil, fmt.Errorf("signing a certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing a certificate: %w", err)
	}
	return &Pair{Cert: cert, Key: key}, nil
}

func (s Spec) template(serial *big.Int) *x509.Certificate {
	cn := "airlock test certificate"
	if len(s.DNSNames) > 0 {
		cn = s.DNSNames[0]
	}
	now := time.Now()
	t := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cmp.Or(s.CommonName, cn)},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(cmp.Or(s.Validity, 24*time.Hour)),
		DNSNames: s.DNSNames, IPAddresses: s.IPs, KeyUsage: x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true, IsCA: s.CA}
	if s.CA {
		t.KeyUsage |= x509.KeyUsageCertSign
	}
	if s.ServerAuth {
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	if s.Edit != nil {
		s.Edit(t)
	}
	return t
}

// PEM is the certificate in PEM.
func (p *Pair) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Cert.Raw})
}

// KeyPEM is the private key in PEM (PKCS #8, as nginx and crypto/tls read it).
func (p *Pair) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(p.Key)
	if err != nil {
		return nil, fmt.Errorf("encoding a key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// TLS is the pair for a tls.Config, followed by chain (its issuers).
func (p *Pair) TLS(chain ...*Pair) tls.Certificate {
	c := tls.Certificate{Certificate: [][]byte{p.Cert.Raw}, PrivateKey: p.Key, Leaf: p.Cert}
	for _, issuer := range chain {
		c.Certificate = append(c.Certificate, issuer.Cert.Raw)
	}
	return c
}
