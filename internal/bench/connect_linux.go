package bench

import (
	"fmt"
	"net"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// connectCosts returns ns per UDP connect() and per TCP socket+connect+close
// to 127.0.0.1, measured on one locked OS thread.
func connectCosts(n int) (udpNs, tcpNs float64, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	defer ln.Close()
	go drain(ln)
	port := ln.Addr().(*net.TCPAddr).Port
	if udpNs, err = udpConnects(n, port); err != nil {
		return 0, 0, err
	}
	tcpNs, err = tcpConnects(n/10, port)
	return udpNs, tcpNs, err
}

func drain(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

func udpConnects(n, port int) (float64, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	sa := &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
	return batched(n, 1000, func() error { return unix.Connect(fd, sa) })
}

func tcpConnects(n, port int) (float64, error) {
	sa := &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
	return batched(n, 100, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		err = unix.Connect(fd, sa)
		unix.Close(fd)
		return err
	})
}

// batched times op n times in batches and returns the median batch's ns per
// op: on a shared machine a preempted batch is an outlier, not the answer.
func batched(n, batch int, op func() error) (float64, error) {
	var perOp []float64
	for done := 0; done < n; done += batch {
		begin := time.Now()
		for range batch {
			if err := op(); err != nil {
				return 0, fmt.Errorf("connect: %w", err)
			}
		}
		perOp = append(perOp, float64(time.Since(begin).Nanoseconds())/float64(batch))
	}
	return Summarize(perOp).Median, nil
}
