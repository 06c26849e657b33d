//go:build !linux

package admin

import (
	"net"
	"os"
)

func unixPeer(net.Conn) *Peer {
	return &Peer{Via: "unix", Err: "peer credentials are only supported on Linux"}
}

func chownSocket(path string, gid int, mode os.FileMode) error { return os.Chmod(path, mode) }
