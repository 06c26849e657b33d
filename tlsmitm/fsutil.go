package tlsmitm

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha1"
	"fmt"
	"math/big"
	"os"

	"github.com/airlock-dev/airlock/internal/atomicfile"
)

// writeAtomic is atomicfile.WriteFile: the CA's key and certificate are
// never torn, and the rename survives a power cut.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	return atomicfile.WriteFile(path, data, mode)
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
