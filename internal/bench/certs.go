package bench

import (
	"net"
	"os"
	"path/filepath"

	"github.com/airlock-dev/airlock/internal/certgen"
)

// PeerCerts writes a throwaway CA and a leaf for api.anthropic.com that it
// signs, for peers that terminate TLS with a given certificate (nginx).
// It returns the CA, leaf certificate and leaf key file names.
func PeerCerts(dir string) (caFile, certFile, keyFile string, err error) {
	ca, err := certgen.New(certgen.Spec{CommonName: "Airlock benchmark peer CA", CA: true}, nil)
	if err != nil {
		return "", "", "", err
	}
	leaf, err := certgen.New(certgen.Spec{DNSNames: []string{APIHost}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, ServerAuth: true}, ca)
	if err != nil {
		return "", "", "", err
	}
	keyPEM, err := leaf.KeyPEM()
	if err != nil {
		return "", "", "", err
	}
	caFile, certFile, keyFile = filepath.Join(dir, "peer-ca.pem"), filepath.Join(dir, "peer-leaf.pem"), filepath.Join(dir, "peer-leaf.key")
	files := map[string][]byte{caFile: ca.PEM(), certFile: leaf.PEM(), keyFile: keyPEM}
	for name, data := range files {
		if err = os.WriteFile(name, data, 0o600); err != nil {
			return "", "", "", err
		}
	}
	return caFile, certFile, keyFile, nil
}
