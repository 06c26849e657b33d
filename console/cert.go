package console

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/airlock-dev/airlock/internal/atomicfile"
	"github.com/airlock-dev/airlock/internal/certgen"
)

const certValidity = 365 * 24 * time.Hour

// servingCert is the operator's certificate, or a self-signed one for the
// loopback names kept in the state directory. It is deliberately not signed
// by Airlock's CA: that CA may sign the API's host names only.
func servingCert(cfg Config) (tls.Certificate, error) {
	if cfg.CertFile != "" {
		c, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return c, fmt.Errorf("console: loading console.cert_file and console.key_file: %w", err)
		}
		return c, nil
	}
	dir := filepath.Join(cfg.StateDir, "console")
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if c, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil && fresh(c) {
		return c, nil
	}
	return newSelfSigned(dir, certPath, keyPath)
}

func fresh(c tls.Certificate) bool {
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	return err == nil && time.Now().Add(7*24*time.Hour).Before(leaf.NotAfter)
}

func newSelfSigned(dir, certPath, keyPath string) (tls.Certificate, error) {
	p, err := certgen.New(certgen.Spec{CommonName: "Airlock console (self-signed)", DNSNames: []string{"localhost"},
		IPs: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, ServerAuth: true, Validity: certValidity}, nil)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("console: self-signing: %w", err)
	}
	keyPEM, err := p.KeyPEM()
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("console: %w", err)
	}
	certPEM := p.PEM()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, fmt.Errorf("console: %w", err)
	}
	if err := atomicfile.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, fmt.Errorf("console: writing %s: %w", keyPath, err)
	}
	if err := atomicfile.WriteFile(certPath, certPEM, 0o644); err != nil {
		return tls.Certificate{}, fmt.Errorf("console: writing %s: %w", certPath, err)
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}
