package tlsmitm

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// CAConfig says where the CA lives and which host names it may sign for.
type CAConfig struct {
	Dir   string   // state directory holding the CA (created 0700)
	Hosts []string // permitted DNS names (name constraints), e.g. api.anthropic.com
}

// ErrKeyPermissions means the CA key file is readable by group or others:
// Airlock refuses to use a key that may already have leaked.
var ErrKeyPermissions = errors.New("ca key file is accessible by group or others")

// ErrHostNotAllowed means a leaf was asked for a name outside the configured hosts.
var ErrHostNotAllowed = errors.New("host is not a configured API host")

// ErrHostsChanged means the CA on disk is constrained to other host names
// than the configuration asks for: leaves for a new host would not verify.
var ErrHostsChanged = errors.New("ca name constraints differ from the configured API hosts")

// ErrNoCA means the CA directory holds no CA yet (LoadCA never creates one).
var ErrNoCA = errors.New("no CA yet")

// Authority is the loaded CA: the current signing CA plus retired CAs whose
// leaves may still be in use, which stay in the exported trust bundle.
type Authority struct {
	cfg CAConfig
	log *zap.Logger

	mu       sync.RWMutex
	current  *signingCA
	retired  []*x509.Certificate
	generate uint64 // bumped on every reload so cached leaves notice a new CA
}

// signingCA is a CA certificate with its private key.
type signingCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// LoadOrCreateCA loads the CA from cfg.Dir, creating it on first start.
func LoadOrCreateCA(cfg CAConfig, log *zap.Logger) (*Authority, error) {
	if log == nil {
		log = zap.NewNop()
	}
	cfg.Hosts = normalizeHosts(cfg.Hosts)
	if len(cfg.Hosts) == 0 {
		return nil, errors.New("ca: no API hosts configured")
	}
	a := &Authority{cfg: cfg, log: log.Named("ca")}
	if err := a.Reload(); err != nil {
		return nil, err
	}
	return a, nil
}

// LoadCA loads an existing CA without creating one: reading commands (the
// CLI, doctor) must not mint a CA as a side effect.
func LoadCA(cfg CAConfig) (*Authority, error) {
	if _, err := os.Stat(CACertPath(cfg.Dir)); err != nil {
		return nil, fmt.Errorf("%w in %s", ErrNoCA, cfg.Dir)
	}
	ca, err := LoadOrCreateCA(cfg, nil)
	if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("reading the CA in %s needs root: %w", cfg.Dir, err)
	}
	return ca, err
}

// Reload re-reads the CA directory (creating the CA if absent), so a running
// daemon picks up `airlock ca rotate`; cached leaves of the old CA are re-minted.
func (a *Authority) Reload() error {
	st := store{dir: a.cfg.Dir}
	cur, created, err := st.loadOrCreate(a.cfg.Hosts)
	if err != nil {
		return err
	}
	if err := checkConstraints(cur.cert, a.cfg.Hosts); err != nil {
		return err
	}
	retired, err := st.loadRetired(time.Now())
	if err != nil {
		return err
	}
	if !slices.Contains(cur.cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		// CAs made before the server-auth-only scope could also sign email,
		// URI and code-signing identities: keep serving, but say how to narrow it.
		a.log.Warn("the CA predates the server-authentication-only scope; run `airlock ca rotate` to narrow it",
			zap.String("dir", a.cfg.Dir))
	}
	if created {
		a.log.Info("created CA", zap.String("dir", a.cfg.Dir), zap.String("fingerprint", fingerprint(cur.cert)))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.current == nil || !a.current.cert.Equal(cur.cert) {
		a.generate++
	}
	a.current, a.retired = cur, retired
	return nil
}

// RotateCA replaces the CA in cfg.Dir with a new one. The old certificate is
// kept (without its key) in the trust bundle until every leaf it signed has
// expired; re-run trust installation afterwards so clients trust the new CA.
func RotateCA(cfg CAConfig) error {
	cfg.Hosts = normalizeHosts(cfg.Hosts)
	if len(cfg.Hosts) == 0 {
		return errors.New("ca: no API hosts configured")
	}
	return store{dir: cfg.Dir}.rotate(cfg.Hosts, time.Now())
}

// CertPEM returns every CA certificate clients must trust: the current CA
// first, then retired CAs whose leaves have not all expired yet.
func (a *Authority) CertPEM() []byte {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var b []byte
	for _, c := range append([]*x509.Certificate{a.current.cert}, a.retired...) {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return b
}

// Certificate returns the current CA certificate.
func (a *Authority) Certificate() *x509.Certificate {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.current.cert
}

// Fingerprint is the SHA-256 of the current CA certificate, hex, colon-free.
func (a *Authority) Fingerprint() string { return fingerprint(a.Certificate()) }

// NotAfter is when the current CA expires.
func (a *Authority) NotAfter() time.Time { return a.Certificate().NotAfter }

// Hosts returns the host names the CA may sign for.
func (a *Authority) Hosts() []string { return slices.Clone(a.cfg.Hosts) }

// Allowed reports whether name is one of the configured API hosts.
func (a *Authority) Allowed(name string) bool {
	return slices.Contains(a.cfg.Hosts, strings.ToLower(strings.TrimSuffix(name, ".")))
}

// signer returns the current CA and its generation number.
func (a *Authority) signer() (*signingCA, uint64) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.current, a.generate
}

func checkConstraints(c *x509.Certificate, hosts []string) error {
	have := normalizeHosts(c.PermittedDNSDomains)
	slices.Sort(have)
	want := slices.Sorted(slices.Values(hosts))
	if !slices.Equal(have, want) {
		return fmt.Errorf("ca permits %v, configuration asks for %v: %w; run `airlock ca rotate`", have, want, ErrHostsChanged)
	}
	return nil
}

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

func normalizeHosts(hosts []string) []string {
	var out []string
	for _, h := range hosts {
		h = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
		if h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}
