package intercept

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCert is a self-signed certificate for the test host names, written
// to a PEM file the helper client trusts.
type testCert struct {
	cert   tls.Certificate
	caFile string
}

func newTestCert(tb testing.TB, names ...string) testCert {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	file := filepath.Join(tb.TempDir(), "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return testCert{cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caFile: file}
}

// clientHello returns the first flight of a real crypto/tls client.
func clientHello(tb testing.TB, sni string) []byte {
	tb.Helper()
	return rawClientHello(sni)
}

// rawClientHello is a real ClientHello for sni. crypto/tls never sends a
// trailing dot, so "name." is produced by patching a same-length name.
func rawClientHello(sni string) []byte {
	if stem, ok := strings.CutSuffix(sni, "."); ok {
		hello := rawClientHello(stem + "x")
		i := bytes.LastIndex(hello, []byte(stem+"x"))
		copy(hello[i:], sni)
		return hello
	}
	out := make(chan []byte, 1)
	c, s := pipeConns()
	go func() {
		buf := make([]byte, 64*1024)
		n, _ := s.Read(buf)
		out <- buf[:n]
		s.Close()
	}()
	cfg := &tls.Config{ServerName: sni, InsecureSkipVerify: sni == ""} // only to produce bytes
	_ = tls.Client(c, cfg).Handshake()
	return <-out
}
