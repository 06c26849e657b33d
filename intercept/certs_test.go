package intercept

import (
	"bytes"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/internal/testutil"
)

// testCert is a self-signed certificate for the test host names, written
// to a PEM file the helper client trusts.
type testCert struct {
	cert   tls.Certificate
	caFile string
}

func newTestCert(tb testing.TB, names ...string) testCert {
	tb.Helper()
	cert, pemBytes := testutil.SelfSignedCert(tb, names, nil)
	file := filepath.Join(tb.TempDir(), "ca.pem")
	if err := os.WriteFile(file, pemBytes, 0o600); err != nil {
		tb.Fatal(err)
	}
	return testCert{cert: cert, caFile: file}
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
