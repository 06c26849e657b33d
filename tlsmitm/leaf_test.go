package tlsmitm

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestLeafProperties(t *testing.T) {
	a := newTestCA(t)
	start := time.Now()
	cert, err := NewLeaves(a, 0).Get("API.Anthropic.com.")
	if err != nil {
		t.Fatal(err)
	}
	leaf := cert.Leaf
	if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != testHost {
		t.Errorf("SAN = %v, want [%s]", leaf.DNSNames, testHost)
	}
	if d := start.Sub(leaf.NotBefore); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("NotBefore %v: want backdated one hour", leaf.NotBefore)
	}
	if d := leaf.NotAfter.Sub(start); d < 24*time.Hour || d > 7*24*time.Hour {
		t.Errorf("leaf valid for %v: want a few days", d)
	}
	if leaf.SerialNumber.Sign() <= 0 || leaf.SerialNumber.BitLen() > 128 || leaf.SerialNumber.BitLen() < 96 {
		t.Errorf("serial %v (%d bits): want random 128-bit", leaf.SerialNumber, leaf.SerialNumber.BitLen())
	}
	if !bytes.Equal(leaf.AuthorityKeyId, a.Certificate().SubjectKeyId) {
		t.Error("authority key id is not the CA's subject key id")
	}
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("leaf key %T, want P-256", leaf.PublicKey)
	}
	if leaf.IsCA || len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("leaf IsCA=%v EKU=%v, want a server-auth end entity", leaf.IsCA, leaf.ExtKeyUsage)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: caPool(t, a), DNSName: testHost}); err != nil {
		t.Errorf("leaf does not verify: %v", err)
	}
}

func TestLeafFreshKeyEachMint(t *testing.T) {
	a := newTestCA(t)
	one, _ := a.IssueLeaf(testHost)
	two, _ := a.IssueLeaf(testHost)
	if one.Leaf.PublicKey.(*ecdsa.PublicKey).Equal(two.Leaf.PublicKey) || one.Leaf.SerialNumber.Cmp(two.Leaf.SerialNumber) == 0 {
		t.Error("two mints share a key or a serial")
	}
}

func TestLeafOnlyForConfiguredHosts(t *testing.T) {
	leaves := NewLeaves(newTestCA(t), 0)
	for _, name := range []string{"example.com", "", "anthropic.com", "x.api.anthropic.com", "127.0.0.1"} {
		if c, err := leaves.Get(name); !errors.Is(err, ErrHostNotAllowed) || c != nil {
			t.Errorf("Get(%q) = %v, %v; want ErrHostNotAllowed", name, c, err)
		}
	}
	if leaves.Len() != 0 {
		t.Errorf("cache holds %d entries after refusals", leaves.Len())
	}
}

func TestLeafCacheBounded(t *testing.T) {
	hosts := make([]string, 10)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("h%d.api.example", i)
	}
	leaves := NewLeaves(newTestCA(t, hosts...), 4)
	for _, h := range hosts {
		if _, err := leaves.Get(h); err != nil {
			t.Fatal(err)
		}
	}
	if leaves.Len() != 4 {
		t.Errorf("cache holds %d leaves, want the bound 4", leaves.Len())
	}
}

// Many concurrent handshakes for one name share a single mint.
func TestLeafSingleMintUnderConcurrency(t *testing.T) {
	leaves := NewLeaves(newTestCA(t), 0)
	const n = 64
	got := make([]*tls.Certificate, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i], _ = leaves.Get(testHost)
		}()
	}
	close(start)
	wg.Wait()
	for i := range got {
		if got[i] == nil || got[i] != got[0] {
			t.Fatalf("goroutine %d got a different leaf: %d mints for one name", i, countDistinct(got))
		}
	}
}

func countDistinct(certs []*tls.Certificate) int {
	seen := map[*tls.Certificate]bool{}
	for _, c := range certs {
		seen[c] = true
	}
	return len(seen)
}

func TestLeafRenewedBeforeExpiry(t *testing.T) {
	leaves := NewLeaves(newTestCA(t), 0)
	first, _ := leaves.Get(testHost)
	if again, _ := leaves.Get(testHost); again != first {
		t.Fatal("a fresh cached leaf was not reused")
	}
	leaves.now = func() time.Time { return time.Now().Add(leafValidity - leafRenewBefore/2) }
	later, err := leaves.Get(testHost)
	if err != nil || later == first {
		t.Fatalf("leaf close to expiry was reused (err %v)", err)
	}
}
