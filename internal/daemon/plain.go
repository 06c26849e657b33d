package daemon

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/airlock-dev/airlock/caller"
)

// ServeListener hands every connection accepted on ln to the TLS server as
// the capture listener would, for a daemon started with Options.NoCapture:
// the SNI is the first API host and every connection is attributed to who.
// It returns when ln is closed or ctx ends.
func (d *Daemon) ServeListener(ctx context.Context, ln net.Listener, who caller.Process) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var n atomic.Uint64
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		o := &caller.Origin{ConnID: "plain-" + strconv.FormatUint(n.Add(1), 10), Peer: addrPort(conn.RemoteAddr()),
			Dst: addrPort(conn.LocalAddr()), SNI: d.cfg.Capture.APIHosts[0], Process: who, Accepted: time.Now()}
		go d.parts.tls.ServeAPI(d.ctx, conn, o)
	}
}

func addrPort(a net.Addr) netip.AddrPort {
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}
