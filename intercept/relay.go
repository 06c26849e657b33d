package intercept

import (
	"context"
	"io"
	"net"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/caller"
)

// relay forwards a connection that is not ours to decrypt to where the
// application was going, byte for byte, over a marked socket — once the
// relay is on record.
func (l *Listener) relay(ctx context.Context, client net.Conn, origin *caller.Origin, log *zap.Logger) {
	defer client.Close()
	d := Decision{Kind: DecisionRelay, Reason: "server name in capture.relay_allow", Origin: origin}
	if err := l.report.Report(ctx, d); err != nil {
		log.Error("relay not recorded: closing the connection", zap.String("sni", origin.SNI), zap.Error(err))
		return
	}
	upstream, err := MarkedDialer(l.cfg.Mark).DialContext(ctx, "tcp", origin.Dst.String())
	if err != nil {
		log.Warn("relay: dialing original destination", zap.Stringer("dst", origin.Dst), zap.Error(err))
		return
	}
	defer upstream.Close()
	log.Debug("relaying", zap.String("sni", origin.SNI), zap.Stringer("dst", origin.Dst))
	stop := context.AfterFunc(ctx, func() { client.Close(); upstream.Close() })
	defer stop()
	done := make(chan struct{}, 2)
	go pipe(upstream, client, done)
	go pipe(client, upstream, done)
	<-done
	<-done
}

// pipe copies src to dst, then half-closes dst so the peer sees EOF.
func pipe(dst, src net.Conn, done chan<- struct{}) {
	_, _ = io.Copy(dst, src)
	if tc, ok := dst.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
	}
	done <- struct{}{}
}
