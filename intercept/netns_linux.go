//go:build linux

package intercept

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"syscall"

	"github.com/vishvananda/netns"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// soNetnsCookie is SO_NETNS_COOKIE (Linux 5.14), not yet in x/sys/unix.
const soNetnsCookie = 71

// netnsOf is the cookie of the network namespace a listening socket was
// created in: the key BPF's bpf_get_netns_cookie reports for it.
func netnsOf(ln net.Listener) (uint64, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return 0, fmt.Errorf("listener %T has no socket", ln)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("listener socket: %w", err)
	}
	var cookie uint64
	var serr error
	if err := rc.Control(func(fd uintptr) {
		cookie, serr = unix.GetsockoptUint64(int(fd), unix.SOL_SOCKET, soNetnsCookie)
	}); err != nil {
		return 0, fmt.Errorf("listener socket: %w", err)
	}
	if serr != nil {
		return 0, fmt.Errorf("reading SO_NETNS_COOKIE (needs Linux 5.14): %w", serr)
	}
	return cookie, nil
}

// ownNetnsCookie is the cookie of the calling thread's network namespace.
func ownNetnsCookie() (uint64, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("socket for the netns cookie: %w", err)
	}
	defer unix.Close(fd)
	c, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, soNetnsCookie)
	if err != nil {
		return 0, fmt.Errorf("reading SO_NETNS_COOKIE (needs Linux 5.14): %w", err)
	}
	return c, nil
}

// netnsInode identifies the network namespace of pid (the inode of
// /proc/PID/ns/net); namespaces have no cookie until a socket exists.
func netnsInode(pid int) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/"+strconv.Itoa(pid)+"/ns/net", &st); err != nil {
		return 0, fmt.Errorf("netns of pid %d: %w", pid, err)
	}
	return st.Ino, nil
}

// inNetns runs fn on an OS thread switched into ns and switches back, so
// the sockets fn opens belong to ns while the daemon stays where it is.
func inNetns(ns netns.NsHandle, fn func() error) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("getting the daemon's netns: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("entering netns: %w", err)
	}
	ferr := fn()
	if err := netns.Set(orig); err != nil {
		// Leave the thread locked: the runtime ends it with this goroutine
		// rather than reuse a thread in the wrong namespace.
		return fmt.Errorf("returning to the daemon's netns: %w", err)
	}
	runtime.UnlockOSThread()
	return ferr
}

// listenInNetns opens a Listener (ephemeral loopback ports) inside the
// network namespace of the process behind pidfd, which must still be alive
// once the namespace is open so the namespace is really that process's.
func listenInNetns(pid int, pidfd *os.File, cfg Config, lookup RecordLookup, h APIHandler, report Reporter, log *zap.Logger) (*Listener, error) {
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		return nil, fmt.Errorf("opening the netns of pid %d: %w", pid, err)
	}
	defer ns.Close()
	if exited(pidfd) {
		return nil, fmt.Errorf("pid %d exited: %w", pid, os.ErrProcessDone)
	}
	cfg.ListenV4, cfg.ListenV6, cfg.holdFallback = netnsListenV4, netnsListenV6, true
	var ln *Listener
	err = inNetns(ns, func() (err error) {
		ln, err = NewListener(cfg, lookup, h, report, log)
		return err
	})
	return ln, err
}

// openPidfd pins pid for exited() and waitExit (PIDFD_NONBLOCK, so the
// runtime's poller can wait on it).
func openPidfd(pid int) (*os.File, error) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("pidfd of %d: %w", pid, err)
	}
	return os.NewFile(uintptr(fd), "pidfd"), nil
}

// exited reports whether the process behind a pidfd has exited.
func exited(pidfd *os.File) bool {
	rc, err := pidfd.SyscallConn()
	if err != nil {
		return true
	}
	done := true
	_ = rc.Control(func(fd uintptr) { done = pidfdReadable(fd) })
	return done
}

// pidfdReadable polls a pidfd without blocking: readable once the process
// exited. A poll that finds nothing ready returns EINTR when a signal is
// pending (the Go runtime preempts with SIGURG); that is asked again, not
// taken for an exit, which once made the daemon give up a live namespace
// and leave the first contact held there until connect() timed out.
func pidfdReadable(fd uintptr) bool {
	p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(p, 0)
		if err == unix.EINTR {
			continue
		}
		return err != nil || n > 0
	}
}

// waitExit blocks until the process exits (nil) or pidfd is closed.
func waitExit(pidfd *os.File) error {
	rc, err := pidfd.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Read(pidfdReadable)
}
