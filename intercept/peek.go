package intercept

import (
	"errors"
	"fmt"
	"net"
)

// peekedConn replays the bytes read while peeking before reading on.
type peekedConn struct {
	net.Conn
	buf []byte
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if len(c.buf) > 0 {
		n := copy(p, c.buf)
		c.buf = c.buf[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite half-closes the underlying TCP connection.
func (c *peekedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// peekSNI reads until the ClientHello is complete (at most max bytes) and
// returns the SNI and a conn that yields every byte read from the start.
// The caller bounds the time with a read deadline.
func peekSNI(conn net.Conn, max int) (string, *peekedConn, error) {
	buf := make([]byte, 0, 1024)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, min(cap(buf), max+1-len(buf)))...)[:len(buf)]
		}
		n, err := conn.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		sni, perr := ParseClientHello(buf)
		switch {
		case perr == nil:
			return sni, &peekedConn{Conn: conn, buf: buf}, nil
		case !errors.Is(perr, ErrNeedMore):
			return "", nil, perr
		case len(buf) > max:
			return "", nil, fmt.Errorf("%w (more than %d bytes)", ErrHelloTooLarge, max)
		case err != nil:
			return "", nil, fmt.Errorf("%w: %w", ErrNeedMore, err)
		}
	}
}
