package tlsmitm

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const (
	caCertFile   = "ca.crt"
	caKeyFile    = "ca.key"
	retiredDir   = "retired"
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 3 * 24 * time.Hour
	leafBackdate = time.Hour
)

// store reads and writes the CA files in one directory.
type store struct{ dir string }

func (s store) path(name string) string { return filepath.Join(s.dir, name) }

// loadOrCreate returns the CA in the directory, creating one if there is none.
func (s store) loadOrCreate(hosts []string) (*signingCA, bool, error) {
	if err := s.ensureDir(); err != nil {
		return nil, false, err
	}
	ca, err := s.load()
	if errors.Is(err, fs.ErrNotExist) {
		if ca, err = s.create(hosts); err != nil {
			return nil, false, err
		}
		return ca, true, nil
	}
	return ca, false, err
}

// ensureDir creates the CA directory 0700, and tightens an existing one that
// others could list or enter.
func (s store) ensureDir() error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("creating ca dir: %w", err)
	}
	fi, err := os.Stat(s.dir)
	if err != nil {
		return fmt.Errorf("checking ca dir: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(s.dir, 0o700); err != nil {
			return fmt.Errorf("restricting ca dir to 0700: %w", err)
		}
	}
	return nil
}

// load reads ca.crt and ca.key, refusing a key others can read.
func (s store) load() (*signingCA, error) {
	certPEM, err := os.ReadFile(s.path(caCertFile))
	if err != nil {
		return nil, fmt.Errorf("reading ca certificate: %w", err)
	}
	if err := checkKeyMode(s.path(caKeyFile)); err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(s.path(caKeyFile))
	if err != nil {
		return nil, fmt.Errorf("reading ca key: %w", err)
	}
	return parseCA(certPEM, keyPEM)
}

func checkKeyMode(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("reading ca key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s has mode %v: %w; if it may have leaked, run `airlock ca rotate`, else `chmod 0400 %s`",
			path, fi.Mode().Perm(), ErrKeyPermissions, path)
	}
	return nil
}

func parseCA(certPEM, keyPEM []byte) (*signingCA, error) {
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, errors.New("ca files are not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing ca certificate: %w", err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing ca key: %w", err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("ca key does not match ca certificate")
	}
	return &signingCA{cert: cert, key: key}, nil
}

// create makes a new CA and writes it atomically: the key first, so a crash
// never leaves a certificate without its key.
func (s store) create(hosts []string) (*signingCA, error) {
	ca, err := newCA(hosts, time.Now())
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalECPrivateKey(ca.key)
	if err != nil {
		return nil, fmt.Errorf("encoding ca key: %w", err)
	}
	if err := writeAtomic(s.path(caKeyFile), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o400); err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
	if err := writeAtomic(s.path(caCertFile), certPEM, 0o644); err != nil {
		return nil, err
	}
	return ca, nil
}

// newCA builds a P-256 CA constrained to hosts: DNS names limited to hosts,
// every IP address excluded, email addresses and URIs limited to the reserved
// .invalid domain (RFC 2606), server authentication as its only extended key
// usage, path length zero, cert-sign and CRL-sign only. A stolen CA key can
// then mint nothing but TLS server certificates for the API hosts: no S/MIME,
// client or code-signing certificate, no IP, email or URI identity. (An empty
// excluded subtree would say "every email" more directly, but Java refuses to
// parse such a certificate at all.)
func newCA(hosts []string, now time.Time) (*signingCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating ca key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:                randomSerial(),
		Subject:                     pkix.Name{Organization: []string{"Airlock"}, CommonName: "Airlock local CA " + now.UTC().Format("2006-01-02 15:04")},
		NotBefore:                   now.Add(-leafBackdate),
		NotAfter:                    now.Add(caValidity),
		KeyUsage:                    x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid:       true,
		IsCA:                        true,
		MaxPathLen:                  0,
		MaxPathLenZero:              true,
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         hosts,
		ExcludedIPRanges:            []*net.IPNet{{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)}, {IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}},
		PermittedEmailAddresses:     []string{".invalid"},
		PermittedURIDomains:         []string{".invalid"},
		ExtKeyUsage:                 []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		SubjectKeyId:                keyID(&key.PublicKey),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("signing ca certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing new ca certificate: %w", err)
	}
	return &signingCA{cert: cert, key: key}, nil
}

// rotate retires the current CA (certificate only; its key is deleted) and
// creates a new one. The retired file name carries the time after which no
// leaf signed by it can still be valid.
func (s store) rotate(hosts []string, now time.Time) error {
	if err := os.MkdirAll(filepath.Join(s.dir, retiredDir), 0o700); err != nil {
		return fmt.Errorf("creating retired ca dir: %w", err)
	}
	old, err := os.ReadFile(s.path(caCertFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading ca certificate: %w", err)
	}
	if err == nil {
		until := now.Add(leafValidity + leafBackdate).Unix()
		name := filepath.Join(s.dir, retiredDir, fmt.Sprintf("ca-%d.crt", until))
		if err := writeAtomic(name, old, 0o644); err != nil {
			return err
		}
	}
	if err := os.Remove(s.path(caKeyFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing old ca key: %w", err)
	}
	if _, err := s.create(hosts); err != nil {
		return err
	}
	s.pruneRetired(now)
	return nil
}

// loadRetired returns the retired CAs whose leaves may still be valid.
func (s store) loadRetired(now time.Time) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, path := range s.retiredFiles() {
		if retiredUntil(path).Before(now) {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading retired ca: %w", err)
		}
		if blk, _ := pem.Decode(b); blk != nil {
			if c, err := x509.ParseCertificate(blk.Bytes); err == nil {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

func (s store) pruneRetired(now time.Time) {
	for _, path := range s.retiredFiles() {
		if retiredUntil(path).Before(now) {
			os.Remove(path)
		}
	}
}

func (s store) retiredFiles() []string {
	files, _ := filepath.Glob(filepath.Join(s.dir, retiredDir, "ca-*.crt"))
	return files
}

func retiredUntil(path string) time.Time {
	n := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "ca-"), ".crt")
	secs, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(secs, 0)
}
