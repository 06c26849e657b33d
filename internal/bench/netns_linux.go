//go:build linux

package bench

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/airlock-dev/airlock/internal/poll"
)

// NetnsTarget is what a container's connection costs: the load generator
// dials TargetAddr with sockets created in a network namespace of their own
// (loopback only, as `docker run --network none`), from the captured cgroup,
// so the kernel redirects them to the listener airlockd opened inside that
// namespace. An anchor process (`unshare -n`, in the captured cgroup) keeps
// the namespace alive and is how the daemon finds it, as it finds a
// container's first process.
type NetnsTarget struct {
	anchor *exec.Cmd
	ns     netns.NsHandle
}

// StartNetnsTarget starts the anchor in cgroup and waits until it is in its
// own namespace with loopback up.
func StartNetnsTarget(ctx context.Context, cgroup string) (*NetnsTarget, error) {
	cg, err := os.Open(cgroup)
	if err != nil {
		return nil, err
	}
	defer cg.Close()
	cmd := exec.Command("unshare", "-n", "sh", "-c", "ip link set lo up && exec sleep 86400")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(cg.Fd()), Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the namespace's anchor: %w", err)
	}
	n := &NetnsTarget{anchor: cmd, ns: -1}
	if err := n.waitReady(ctx); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// waitReady waits for the anchor to exec sleep (unshare and lo are done).
func (n *NetnsTarget) waitReady(ctx context.Context) error {
	pid := n.anchor.Process.Pid
	err := poll.Until(ctx, 10*time.Second, func() (bool, error) {
		comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		return err == nil && strings.TrimSpace(string(comm)) == "sleep", nil
	})
	if err != nil {
		return fmt.Errorf("the namespace's anchor did not start: %w", err)
	}
	n.ns, err = netns.GetFromPid(pid)
	return err
}

// Dial connects to addr from the namespace: the socket is created on a
// thread switched into it, then the thread returns to the host's.
func (n *NetnsTarget) Dial(addr string) func(ctx context.Context) (net.Conn, error) {
	ap := netip.MustParseAddrPort(addr)
	sa := &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	return func(ctx context.Context) (net.Conn, error) {
		fd, err := n.socket()
		if err != nil {
			return nil, err
		}
		f := os.NewFile(uintptr(fd), "netns-client")
		defer f.Close()
		if err := unix.Connect(fd, sa); err != nil {
			return nil, fmt.Errorf("connecting to %s from the namespace: %w", addr, err)
		}
		return net.FileConn(f)
	}
}

func (n *NetnsTarget) socket() (int, error) {
	runtime.LockOSThread()
	host, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return -1, err
	}
	defer host.Close()
	if err := netns.Set(n.ns); err != nil {
		runtime.UnlockOSThread()
		return -1, err
	}
	fd, serr := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err := netns.Set(host); err != nil {
		return -1, err // the thread stays locked: it dies with its goroutine
	}
	runtime.UnlockOSThread()
	return fd, serr
}

// Close ends the anchor (the daemon then releases the namespace).
func (n *NetnsTarget) Close() {
	if n.ns >= 0 {
		n.ns.Close()
	}
	_ = n.anchor.Process.Kill()
	_ = n.anchor.Wait()
}
