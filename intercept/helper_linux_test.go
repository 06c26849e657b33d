//go:build linux

package intercept

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The test binary re-executes itself as a client placed in a child cgroup
// (AIRLOCK_INTERCEPT_HELPER=1): it dials HELPER_DIAL with a raw socket of
// the address's family (so ::ffff:a.b.c.d really goes through connect6),
// reports getpeername and what the server answered, as JSON on stdout.

type helperResult struct {
	Peer     string            `json:"peer"`
	Response string            `json:"response"`
	Error    string            `json:"error"`
	Steps    map[string]string `json:"steps,omitempty"` // attack modes: each syscall's outcome
	Refused  int               `json:"refused"`         // connects refused before one succeeded (HELPER_RETRY)
}

func TestMain(m *testing.M) {
	if os.Getenv("AIRLOCK_INTERCEPT_HELPER") == "1" {
		res := runHelper()
		if os.Getenv("HELPER_LINGER") == "1" { // keep the namespace in use until told to go
			_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		}
		_ = json.NewEncoder(os.Stdout).Encode(res)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runHelper() (res helperResult) {
	if os.Getenv("HELPER_WAIT") == "1" {
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	}
	if mode, ok := attackModes[os.Getenv("HELPER_MODE")]; ok {
		return mode()
	}
	dst := netip.MustParseAddrPort(os.Getenv("HELPER_DIAL"))
	conn, peer, err := helperDial(dst)
	for os.Getenv("HELPER_RETRY") == "1" && errors.Is(err, unix.EPERM) && res.Refused < 100 {
		res.Refused++
		time.Sleep(20 * time.Millisecond)
		conn, peer, err = helperDial(dst)
	}
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer conn.Close()
	res.Peer = peer.String()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	body, err := helperExchange(conn)
	res.Response = string(body)
	if err != nil {
		res.Error = err.Error()
	}
	return res
}

func helperDial(dst netip.AddrPort) (net.Conn, netip.AddrPort, error) {
	if mark := os.Getenv("HELPER_MARKED_DIALER"); mark != "" {
		m, _ := strconv.ParseUint(mark, 0, 32)
		c, err := MarkedDialer(uint32(m)).Dial("tcp", dst.String())
		if err != nil {
			return nil, netip.AddrPort{}, err
		}
		return c, c.RemoteAddr().(*net.TCPAddr).AddrPort(), nil
	}
	return rawDial(dst)
}

func rawDial(dst netip.AddrPort) (net.Conn, netip.AddrPort, error) {
	family, sa := sockaddrOf(dst)
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	f := os.NewFile(uintptr(fd), "helper")
	defer f.Close()
	if err := setHelperMark(fd); err != nil {
		return nil, netip.AddrPort{}, err
	}
	if n, err := strconv.Atoi(os.Getenv("HELPER_SYNCNT")); err == nil { // give up a held connect sooner
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_SYNCNT, n); err != nil {
			return nil, netip.AddrPort{}, err
		}
	}
	if err := unix.Connect(fd, sa); err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("connect: %w", err)
	}
	psa, err := unix.Getpeername(fd)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	conn, err := net.FileConn(f)
	return conn, sockaddrToAddrPort(psa), err
}

func sockaddrOf(dst netip.AddrPort) (int, unix.Sockaddr) {
	if dst.Addr().Is4() {
		return unix.AF_INET, &unix.SockaddrInet4{Port: int(dst.Port()), Addr: dst.Addr().As4()}
	}
	return unix.AF_INET6, &unix.SockaddrInet6{Port: int(dst.Port()), Addr: dst.Addr().As16()}
}

func sockaddrToAddrPort(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
	}
	return netip.AddrPort{}
}

// helperExchange reads a plain greeting, or speaks TLS + HTTP/1.0 when
// HELPER_SNI is set (verifying the server against HELPER_CA).
func helperExchange(conn net.Conn) ([]byte, error) {
	if os.Getenv("HELPER_RAW_SNI") != "" {
		return rawHelloExchange(conn)
	}
	sni := os.Getenv("HELPER_SNI")
	if sni == "" {
		return io.ReadAll(conn)
	}
	pem, err := os.ReadFile(os.Getenv("HELPER_CA"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tc := tls.Client(conn, &tls.Config{ServerName: sni, RootCAs: pool})
	if _, err := io.WriteString(tc, "GET / HTTP/1.0\r\nHost: "+sni+"\r\n\r\n"); err != nil {
		return nil, err
	}
	return io.ReadAll(tc)
}
