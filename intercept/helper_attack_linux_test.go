//go:build linux

package intercept

import (
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Hostile clients for the adversarial tests, selected by HELPER_MODE in the
// re-executed helper (see helper_linux_test.go). Each reports every
// syscall's outcome in helperResult.Steps ("ok" or the error text).

var attackModes = map[string]func() helperResult{
	"nonblock":  nonblockDial,
	"reconnect": reconnectDial,
	"udp":       udpToTargets,
	"exec":      execAfterConnect,
	"abort":     abortQueued,
}

func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func helperDst(env string) netip.AddrPort { return netip.MustParseAddrPort(os.Getenv(env)) }

// setHelperMark sets SO_MARK=HELPER_MARK on fd; with HELPER_ONLY_NET_RAW=1
// it first drops every capability but CAP_NET_RAW on this (locked) thread,
// as a container process with Docker's default set would hold.
func setHelperMark(fd int) error {
	mark := os.Getenv("HELPER_MARK")
	if mark == "" {
		return nil
	}
	if os.Getenv("HELPER_ONLY_NET_RAW") == "1" {
		runtime.LockOSThread() // capset is per thread; never unlocked: the thread dies with the helper
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		data := [2]unix.CapUserData{{Effective: 1 << unix.CAP_NET_RAW, Permitted: 1 << unix.CAP_NET_RAW}}
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			return err
		}
	}
	m, _ := strconv.ParseUint(mark, 0, 32)
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK, int(m))
}

// connectedConn wraps fd (connected) as a net.Conn and exchanges as usual.
func exchangeOn(fd int, res *helperResult) helperResult {
	f := os.NewFile(uintptr(fd), "helper")
	defer f.Close()
	if psa, err := unix.Getpeername(fd); err == nil {
		res.Peer = sockaddrToAddrPort(psa).String()
	}
	conn, err := net.FileConn(f)
	if err != nil {
		res.Error = err.Error()
		return *res
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	body, err := helperExchange(conn)
	res.Response = string(body)
	if err != nil {
		res.Error = err.Error()
	}
	return *res
}

// nonblockDial connects a non-blocking socket to HELPER_DIAL, calls
// connect() again while it is in progress (same target, then HELPER_DIAL2),
// waits until it is established and calls connect() once more.
func nonblockDial() helperResult {
	res := helperResult{Steps: map[string]string{}}
	dst, other := helperDst("HELPER_DIAL"), helperDst("HELPER_DIAL2")
	family, sa := sockaddrOf(dst)
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	_, osa := sockaddrOf(other)
	res.Steps["first"] = outcome(unix.Connect(fd, sa))
	res.Steps["again"] = outcome(unix.Connect(fd, sa))
	res.Steps["elsewhere"] = outcome(unix.Connect(fd, osa))
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	_, _ = unix.Poll(pfd, 10_000)
	res.Steps["after"] = outcome(unix.Connect(fd, osa))
	_ = unix.SetNonblock(fd, false)
	return exchangeOn(fd, &res)
}

// reconnectDial connects to HELPER_DIAL (redirected), dissolves the
// association with AF_UNSPEC, and connects the same socket to HELPER_DIAL2.
func reconnectDial() helperResult {
	res := helperResult{Steps: map[string]string{}}
	dst, other := helperDst("HELPER_DIAL"), helperDst("HELPER_DIAL2")
	family, sa := sockaddrOf(dst)
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	_, osa := sockaddrOf(other)
	res.Steps["first"] = outcome(unix.Connect(fd, sa))
	unspec := unix.RawSockaddrAny{}
	unspec.Addr.Family = unix.AF_UNSPEC
	_, _, errno := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafePointer(&unspec)), unix.SizeofSockaddrAny)
	res.Steps["unspec"] = outcome(errnoErr(errno))
	res.Steps["second"] = outcome(unix.Connect(fd, osa))
	return exchangeOn(fd, &res)
}

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// udpToTargets sends UDP to HELPER_DIAL unconnected (IPv4 and IPv4-mapped
// IPv6), connects a UDP socket to it, and sends to HELPER_DIAL2 (not an
// API address) as the control.
func udpToTargets() helperResult {
	res := helperResult{Steps: map[string]string{}}
	dst, other := helperDst("HELPER_DIAL"), helperDst("HELPER_DIAL2")
	mapped := netip.AddrPortFrom(netip.AddrFrom16(dst.Addr().As16()), dst.Port())
	res.Steps["sendto"] = outcome(udpSend(dst, false))
	res.Steps["sendto_mapped"] = outcome(udpSend(mapped, false))
	res.Steps["connect"] = outcome(udpSend(dst, true))
	res.Steps["control"] = outcome(udpSend(other, false))
	return res
}

func udpSend(dst netip.AddrPort, connect bool) error {
	family, sa := sockaddrOf(dst)
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if connect {
		if err := unix.Connect(fd, sa); err != nil {
			return err
		}
		_, err = unix.Write(fd, []byte("quic?"))
		return err
	}
	return unix.Sendto(fd, []byte("quic?"), 0, sa)
}

// execAfterConnect connects to HELPER_DIAL, then execs /bin/sh with the
// socket as fd 3; the shell sends the ClientHello in HELPER_HELLO_FILE and
// waits on stdin. The listener reads /proc only after the ClientHello:
// by then the caller is /bin/sh.
func execAfterConnect() helperResult {
	dst := helperDst("HELPER_DIAL")
	family, sa := sockaddrOf(dst)
	fd, err := unix.Socket(family, unix.SOCK_STREAM, 0) // no CLOEXEC: the shell inherits it
	if err == nil {
		err = unix.Connect(fd, sa)
	}
	if err == nil {
		err = unix.Dup2(fd, 3)
	}
	if err == nil {
		err = syscall.Exec("/bin/sh", []string{"sh", "-c", `cat "$HELPER_HELLO_FILE" >&3; read _`}, os.Environ())
	}
	return helperResult{Error: outcome(err)}
}

// rawHelloExchange sends a ClientHello for HELPER_RAW_SNI byte for byte
// (crypto/tls would strip a trailing dot) and reads whatever comes back.
func rawHelloExchange(conn net.Conn) ([]byte, error) {
	if _, err := conn.Write(rawClientHello(os.Getenv("HELPER_RAW_SNI"))); err != nil {
		return nil, err
	}
	return io.ReadAll(conn)
}

// abortQueued connects to HELPER_DIAL, writes its local address to
// HELPER_LOCAL_FILE, waits for a line on stdin, then resets the connection
// (SO_LINGER 0) — while the listener has not accepted it.
func abortQueued() helperResult {
	dst := helperDst("HELPER_DIAL")
	family, sa := sockaddrOf(dst)
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		err = unix.Connect(fd, sa)
	}
	var local unix.Sockaddr
	if err == nil {
		local, err = unix.Getsockname(fd)
	}
	if err == nil {
		err = os.WriteFile(os.Getenv("HELPER_LOCAL_FILE"), []byte(sockaddrToAddrPort(local).String()), 0o600)
	}
	if err != nil {
		return helperResult{Error: err.Error()}
	}
	_, _ = io.ReadFull(os.Stdin, make([]byte, 3))
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	return helperResult{Error: outcome(unix.Close(fd))}
}

func unsafePointer(a *unix.RawSockaddrAny) unsafe.Pointer { return unsafe.Pointer(a) }
