package tlsmitm

import (
	"bytes"
	"io"
	"net"
	"testing"
)

// chunkConn yields its data in reads of the given sizes.
type chunkConn struct {
	net.Conn
	data  []byte
	sizes []int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(c.data), len(p))
	if len(c.sizes) > 0 {
		n, c.sizes = min(n, c.sizes[0]), c.sizes[1:]
	}
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

func TestAlertConnFindsTrailingPlaintextAlert(t *testing.T) {
	finished := bytes.Repeat([]byte{23, 3, 3, 0, 40}, 9) // protected records
	unknownCA := []byte{21, 3, 3, 0, 2, 2, 48}           // fatal alert unknown_ca
	for _, sizes := range [][]int{nil, {1, 1, 1, 1, 1, 1, 1}, {44, 3, 2, 100}, {3}} {
		c := &alertConn{Conn: &chunkConn{data: append(append([]byte{}, finished...), unknownCA...), sizes: sizes}}
		io.Copy(io.Discard, c)
		if err, ok := c.rejectedCert(); !ok || handshakeReason(err) != ReasonRejectedCert {
			t.Fatalf("reads %v: alert not found (tail %v)", sizes, c.tail[:c.n])
		}
	}
}

func TestAlertConnIgnoresOtherEndings(t *testing.T) {
	for name, data := range map[string][]byte{
		"protected record":  {23, 3, 3, 0, 2, 2, 48},
		"warning alert":     {21, 3, 3, 0, 2, 1, 0},
		"non-cert alert":    {21, 3, 3, 0, 2, 2, 40},
		"too short to tell": {21, 3, 3},
	} {
		c := &alertConn{Conn: &chunkConn{data: data}}
		io.Copy(io.Discard, c)
		if _, ok := c.rejectedCert(); ok {
			t.Errorf("%s: taken for a certificate rejection", name)
		}
	}
}
