package tlsmitm

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/caller"
)

// Handshake failure reasons, as logged in the "reason" field.
const (
	ReasonOldTLS          = "client offers only TLS 1.0/1.1"
	ReasonNoCipher        = "no cipher suite shared with the client"
	ReasonStalled         = "handshake stalled (timeout)"
	ReasonBadALPN         = "no ALPN protocol shared with the client"
	ReasonRejectedCert    = "client rejected our certificate (Airlock CA not trusted, or certificate pinning)"
	ReasonUnknownSNI      = "SNI is not a configured API host"
	ReasonClientClosed    = "client closed the connection during the handshake"
	ReasonNotTLS          = "client did not speak TLS"
	ReasonHandshakeFailed = "handshake failed"
)

// handshakeReason names why a server handshake failed, for the log line
// that tells an operator which process to fix and how.
func handshakeReason(err error) string {
	msg := err.Error()
	var ne net.Error
	switch {
	case errors.Is(err, ErrHostNotAllowed):
		return ReasonUnknownSNI
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return ReasonStalled
	case strings.Contains(msg, "unsupported versions"), strings.Contains(msg, "protocol version"):
		return ReasonOldTLS
	case strings.Contains(msg, "no cipher suite"), strings.Contains(msg, "no mutually supported"):
		return ReasonNoCipher
	case strings.Contains(msg, "application protocol"):
		return ReasonBadALPN
	case strings.Contains(msg, "remote error"), strings.Contains(msg, "client sent alert"):
		return ReasonRejectedCert
	case errors.Is(err, io.EOF), strings.Contains(msg, "connection reset"):
		return ReasonClientClosed
	case strings.Contains(msg, "first record does not look like a TLS handshake"):
		return ReasonNotTLS
	}
	return ReasonHandshakeFailed
}

func (s *Server) logHandshakeFailure(o *caller.Origin, err error) {
	s.log.Warn("tls handshake failed",
		zap.String("reason", handshakeReason(err)),
		zap.String("conn_id", o.ConnID),
		zap.String("sni", o.SNI),
		zap.Int("pid", o.Process.PID),
		zap.String("comm", o.Process.Comm),
		zap.String("exe", o.Process.Exe),
		zap.String("unit", o.Process.Unit),
		zap.Stringer("peer", o.Peer),
		zap.Error(err))
}
