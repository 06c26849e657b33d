//go:build linux

package intercept

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/internal/testutil"
)

// BenchmarkConnect measures connect()+close from a process in a cgroup with
// the programs attached versus not, to a target and a non-target address.
// The benchmark process itself moves into a child cgroup for the run.
//
//	go test -run '^$' -bench BenchmarkConnect -benchtime 3000x ./intercept/
func BenchmarkConnect(b *testing.B) {
	testutil.RequirePrivileged(b, "attaching eBPF programs")
	cg := testutil.NewCgroup(b)
	target := benchServer(b, "127.0.100.1:0")
	nonTarget := benchServer(b, "127.0.0.1:0")
	testutil.MoveSelfToCgroup(b, cg)
	b.Run("detached/target", func(b *testing.B) { benchDial(b, target) })
	b.Run("detached/non-target", func(b *testing.B) { benchDial(b, nonTarget) })
	attachForBench(b, cg, target.Port())
	b.Run("attached/target", func(b *testing.B) { benchDial(b, target) })
	b.Run("attached/non-target", func(b *testing.B) { benchDial(b, nonTarget) })
}

func attachForBench(b *testing.B, cg string, port uint16) {
	cfg := Config{CgroupPath: cg, PinDir: testutil.PinDir(b), Targets: testTargets, Ports: []uint16{port},
		ListenV4: netip.MustParseAddrPort("127.0.0.1:0"), ListenV6: netip.MustParseAddrPort("[::1]:0"),
		PeekTimeout: time.Second}
	ic, err := New(cfg, APIHandlerFunc(nil), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = ic.Listener.Serve(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done; _ = ic.Detach() })
}

// benchServer accepts and closes connections as fast as it can.
func benchServer(b *testing.B, addr string) netip.AddrPort {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

func benchDial(b *testing.B, addr netip.AddrPort) {
	d := net.Dialer{Timeout: 5 * time.Second}
	for b.Loop() {
		c, err := d.Dial("tcp", addr.String())
		if err != nil {
			b.Fatal(err)
		}
		_ = c.(*net.TCPConn).SetLinger(0) // RST: no TIME_WAIT pile-up over many iterations
		c.Close()
	}
}
