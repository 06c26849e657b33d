package tlsmitm

import (
	"fmt"
	"net"
)

// alertConn remembers the last bytes the client sent, so that a failed
// handshake can be explained. A TLS 1.3 client that rejects our certificate
// (OpenSSL: unknown_ca) sends its alert unencrypted, while Go's server already
// expects protected records and reports only "bad record MAC"; the plaintext
// alert in the last record tells the real story.
type alertConn struct {
	net.Conn
	tail [7]byte // the last bytes read: room for one alert record
	n    int
}

func (c *alertConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n >= len(c.tail) {
		copy(c.tail[:], p[n-len(c.tail):n])
		c.n = len(c.tail)
	} else if n > 0 {
		keep := min(c.n, len(c.tail)-n)
		copy(c.tail[:], c.tail[c.n-keep:c.n])
		copy(c.tail[keep:], p[:n])
		c.n = keep + n
	}
	return n, err
}

// plaintextAlert reports the description of a fatal alert record that ended
// what the client sent, if it did.
func (c *alertConn) plaintextAlert() (byte, bool) {
	t := c.tail
	const recordAlert, levelFatal = 21, 2
	if c.n < len(t) || t[0] != recordAlert || t[1] != 3 || t[3] != 0 || t[4] != 2 || t[5] != levelFatal {
		return 0, false
	}
	return t[6], true
}

// certificateAlerts are the alerts a client sends when it will not accept
// the certificate it was shown (RFC 8446 §6.2).
var certificateAlerts = map[byte]string{
	42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked",
	45: "certificate_expired", 46: "certificate_unknown", 48: "unknown_ca",
}

// rejectedCert explains a handshake failure by the client's plaintext alert.
func (c *alertConn) rejectedCert() (error, bool) {
	desc, ok := c.plaintextAlert()
	name, isCert := certificateAlerts[desc]
	if !ok || !isCert {
		return nil, false
	}
	return fmt.Errorf("client sent alert %d (%s): it does not trust Airlock's certificate", desc, name), true
}
