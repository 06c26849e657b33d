package tlsmitm

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// DefaultLeafCacheSize bounds the leaf cache: one entry per API host name.
const DefaultLeafCacheSize = 256

// leafRenewBefore is how long before expiry a cached leaf is replaced.
const leafRenewBefore = 24 * time.Hour

// Leaves mints and caches leaf certificates for the configured API hosts.
// It is safe for concurrent use; at most one mint per name is in flight.
type Leaves struct {
	ca    *Authority
	cache *lru.Cache[string, *cachedLeaf]
	group singleflight.Group
	now   func() time.Time
}

type cachedLeaf struct {
	cert       *tls.Certificate
	generation uint64 // the Authority generation that signed it
}

// NewLeaves returns a leaf minter over ca with a cache of at most size entries
// (DefaultLeafCacheSize when size <= 0).
func NewLeaves(ca *Authority, size int) *Leaves {
	if size <= 0 {
		size = DefaultLeafCacheSize
	}
	cache, _ := lru.New[string, *cachedLeaf](size) // only fails for size <= 0
	return &Leaves{ca: ca, cache: cache, now: time.Now}
}

// Get returns a valid leaf for name, minting one if the cache has none, or
// only one that expires soon or was signed by a CA that is no longer current.
func (l *Leaves) Get(name string) (*tls.Certificate, error) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if !l.ca.Allowed(name) {
		return nil, fmt.Errorf("leaf for %q: %w", name, ErrHostNotAllowed)
	}
	if c, ok := l.cache.Get(name); ok && l.fresh(c) {
		return c.cert, nil
	}
	v, err, _ := l.group.Do(name, func() (any, error) {
		if c, ok := l.cache.Get(name); ok && l.fresh(c) {
			return c.cert, nil // minted by the flight that just finished
		}
		return l.mint(name)
	})
	if err != nil {
		return nil, err
	}
	return v.(*tls.Certificate), nil
}

// GetCertificate is a tls.Config.GetCertificate that mints by SNI.
func (l *Leaves) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return l.Get(hello.ServerName)
}

// Len is the number of cached leaves.
func (l *Leaves) Len() int { return l.cache.Len() }

func (l *Leaves) fresh(c *cachedLeaf) bool {
	_, gen := l.ca.signer()
	return c.generation == gen && l.now().Add(leafRenewBefore).Before(c.cert.Leaf.NotAfter)
}

func (l *Leaves) mint(name string) (*tls.Certificate, error) {
	ca, gen := l.ca.signer()
	cert, err := signLeaf(ca, name, l.now())
	if err != nil {
		return nil, err
	}
	l.cache.Add(name, &cachedLeaf{cert: cert, generation: gen})
	return cert, nil
}

// signLeaf makes a server certificate for name with a fresh P-256 key.
func signLeaf(ca *signingCA, name string, now time.Time) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating leaf key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:   randomSerial(),
		Subject:        pkix.Name{CommonName: name},
		DNSNames:       []string{name},
		NotBefore:      now.Add(-leafBackdate),
		NotAfter:       now.Add(leafValidity),
		KeyUsage:       x509.KeyUsageDigitalSignature,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		AuthorityKeyId: ca.cert.SubjectKeyId,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("signing leaf for %q: %w", name, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing leaf for %q: %w", name, err)
	}
	return &tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

// IssueLeaf mints an uncached leaf for one of the configured hosts, e.g. for
// `airlock doctor`'s loopback test endpoint.
func (a *Authority) IssueLeaf(name string) (*tls.Certificate, error) {
	if !a.Allowed(name) {
		return nil, fmt.Errorf("leaf for %q: %w", name, ErrHostNotAllowed)
	}
	ca, _ := a.signer()
	return signLeaf(ca, strings.ToLower(strings.TrimSuffix(name, ".")), time.Now())
}
