package tlsmitm

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha1"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
)

// writeAtomic writes data to a temporary file with mode, syncs it and renames
// it over path, so readers see the old file or the new one, never a torn one.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	err = f.Chmod(mode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	defer d.Close()
	d.Sync()
	return nil
}

// randomSerial returns a positive 128-bit random serial number.
func randomSerial() *big.Int {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			panic(fmt.Sprintf("crypto/rand failed: %v", err)) // the kernel RNG does not fail
		}
		if n.Sign() > 0 {
			return n
		}
	}
}

// keyID is the RFC 5280 method-1 key identifier (SHA-1 of the public key bits).
func keyID(pub *ecdsa.PublicKey) []byte {
	b, _ := pub.Bytes()
	sum := sha1.Sum(b)
	return sum[:]
}
