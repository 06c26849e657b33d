package admin

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// unixPeer reads SO_PEERCRED of a Unix-socket connection, plus the peer
// process's supplementary groups from /proc (SO_PEERCRED carries only the
// primary gid).
func unixPeer(c net.Conn) *Peer {
	p := &Peer{Via: "unix"}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		p.Err = "not a unix socket connection"
		return p
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		p.Err = err.Error()
		return p
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) { cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil || credErr != nil {
		p.Err = fmt.Sprintf("reading SO_PEERCRED: %v %v", err, credErr)
		return p
	}
	p.UID, p.GID, p.PID = cred.Uid, cred.Gid, cred.Pid
	p.Groups = procGroups(cred.Pid)
	return p
}

func procGroups(pid int32) []uint32 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/status")
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "Groups:")
		if !ok {
			continue
		}
		var out []uint32
		for _, f := range strings.Fields(rest) {
			if n, err := strconv.ParseUint(f, 10, 32); err == nil {
				out = append(out, uint32(n))
			}
		}
		return out
	}
	return nil
}

// chownSocket gives the socket file to root:gid with the configured mode.
func chownSocket(path string, gid int, mode os.FileMode) error {
	if gid >= 0 {
		if err := os.Chown(path, 0, gid); err != nil {
			return fmt.Errorf("chown admin socket: %w", err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("chmod admin socket: %w", err)
	}
	return nil
}
