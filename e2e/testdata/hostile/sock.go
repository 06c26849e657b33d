package main

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// modeHold opens -n connections that each declare a large body and send
// one byte of it, keeps them open for -for (or until the server answers) and
// reports how each ended.
func modeHold(o opts) result {
	req := mustRead(o.reqFile)
	out := make([]result, o.n)
	var wg sync.WaitGroup
	for i := range o.n {
		wg.Go(func() { out[i] = holdOne(o, req) })
	}
	wg.Wait()
	return result{Results: out}
}

func holdOne(o opts, req []byte) result {
	conn, err := o.dialTLS()
	if err != nil {
		return result{Error: "dial: " + err.Error()}
	}
	defer conn.Close()
	start := time.Now()
	if _, err := conn.Write(req); err != nil {
		return result{Error: "write: " + err.Error()}
	}
	answered := make(chan result, 1)
	go func() { answered <- readResponse(conn) }()
	select {
	case r := <-answered:
		r.ElapsedMS = time.Since(start).Milliseconds()
		return r
	case <-time.After(o.hold):
		return result{Error: "still open", ElapsedMS: time.Since(start).Milliseconds()}
	}
}

// modeMark marks its socket with -mark (SO_MARK needs CAP_NET_RAW or
// CAP_NET_ADMIN) before connecting, hoping the redirect skips it.
func modeMark(o opts) result {
	notes := map[string]string{}
	d := &net.Dialer{Timeout: o.timeout, Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, int(o.mark))
			notes["setsockopt"] = errText(err)
		})
	}}
	raw, err := d.DialContext(context.Background(), "tcp", o.addr)
	if err != nil {
		return result{Error: "dial: " + err.Error(), Notes: notes}
	}
	res := tlsExchange(raw, o)
	res.Notes = merge(res.Notes, notes)
	return res
}

// tlsExchange completes a verified handshake on raw and sends the request.
func tlsExchange(raw net.Conn, o opts) result {
	conn := tls.Client(raw, o.tlsConfig())
	_ = conn.SetDeadline(time.Now().Add(o.timeout))
	if err := conn.Handshake(); err != nil {
		raw.Close()
		return result{Error: "handshake: " + err.Error()}
	}
	_ = conn.SetDeadline(time.Time{})
	return exchange(conn, mustRead(o.reqFile), o)
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func merge(a, b map[string]string) map[string]string {
	if a == nil {
		a = map[string]string{}
	}
	for k, v := range b {
		a[k] = v
	}
	return a
}

// modeNBConnect calls connect() twice on a non-blocking socket (the second
// while the first is in progress), then uses the socket.
func modeNBConnect(o opts) result {
	ap, err := netip.ParseAddrPort(o.addr)
	if err != nil {
		fail(err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		fail(err)
	}
	sa := &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	notes := map[string]string{"first": errText(unix.Connect(fd, sa)), "second": errText(unix.Connect(fd, sa))}
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	_, _ = unix.Poll(pfd, int(o.timeout.Milliseconds()))
	soErr, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	notes["so_error"] = errText(syscall.Errno(soErr))
	notes["third"] = errText(unix.Connect(fd, sa))
	if soErr != 0 {
		unix.Close(fd)
		return result{Error: "connect: " + syscall.Errno(soErr).Error(), Notes: notes}
	}
	raw, err := net.FileConn(os.NewFile(uintptr(fd), "nb"))
	if err != nil {
		fail(err)
	}
	res := tlsExchange(raw, o)
	res.Notes = merge(res.Notes, notes)
	return res
}

// modeUDP sends a datagram to -addr without connecting (sendto), then on a
// connected UDP socket (connect, send).
func modeUDP(o opts) result {
	notes := map[string]string{}
	dst, err := net.ResolveUDPAddr("udp4", o.addr)
	if err != nil {
		fail(err)
	}
	if c, err := net.ListenUDP("udp4", nil); err == nil {
		_, err = c.WriteTo([]byte("hostile sendto: QUIC-shaped bytes to the API range"), dst)
		notes["sendto"] = errText(err)
		c.Close()
	}
	c, err := net.DialUDP("udp4", nil, dst)
	notes["connect"] = errText(err)
	if err == nil {
		_, err = c.Write([]byte("hostile connected udp send"))
		notes["send"] = errText(err)
		c.Close()
	}
	return result{Notes: notes}
}

// modeExecSwap connects, forks a child that keeps the socket, and execve's
// /bin/sh (an innocent-looking binary) before the child sends the ClientHello:
// an identity read from /proc after the handshake names -exe.
func modeExecSwap(o opts) result {
	raw, err := net.DialTimeout("tcp", o.addr, o.timeout)
	if err != nil {
		return result{Error: "dial: " + err.Error()}
	}
	f, err := raw.(*net.TCPConn).File()
	if err != nil {
		fail(err)
	}
	self, _ := os.Executable()
	child, err := os.StartProcess(self, []string{self, "fromfd", "-fd", "3", "-req", o.reqFile, "-sni", o.sni}, &os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr, f}})
	if err != nil {
		fail(err)
	}
	// The parent becomes a shell that waits (bounded) for the child, so that
	// its /proc entry exists when the daemon reads it.
	script := `for i in $(seq 300); do kill -0 "$1" 2>/dev/null || exit 0; sleep 0.1; done`
	err = syscall.Exec("/bin/sh", []string{"sh", "-c", script, "sh", strconv.Itoa(child.Pid)}, os.Environ())
	fail(errors.Join(errors.New("execve"), err))
	return result{}
}

// modeFromFD is the forked child: it waits until its parent has execve'd,
// then handshakes and sends the request on the inherited socket.
func modeFromFD(o opts) result {
	ppid := os.Getppid()
	own, _ := os.Readlink("/proc/self/exe")
	var parentExe string
	for range 100 {
		// Mid-execve the link reads as nothing: wait for the new image.
		if parentExe, _ = os.Readlink("/proc/" + strconv.Itoa(ppid) + "/exe"); parentExe != "" && parentExe != own {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	raw, err := net.FileConn(os.NewFile(uintptr(o.fd), "inherited"))
	if err != nil {
		fail(err)
	}
	res := tlsExchange(raw, o)
	res.Notes = merge(res.Notes, map[string]string{"parent_pid": strconv.Itoa(ppid), "parent_exe": parentExe})
	return res
}
