//go:build linux

package intercept

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// MarkedDialer returns a dialer whose sockets carry SO_MARK=mark, which
// connect4/6 skip: use it for every upstream socket of the daemon, or the
// daemon would intercept itself.
func MarkedDialer(mark uint32) *net.Dialer {
	return &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, int(mark))
		})
		if err != nil {
			return err
		}
		return serr
	}}
}
