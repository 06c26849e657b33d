package intercept

import (
	"errors"

	"golang.org/x/crypto/cryptobyte"
)

// Errors of ParseClientHello; the listener logs them as the reason a
// connection was closed.
var (
	ErrNeedMore      = errors.New("clienthello incomplete")
	ErrNotTLS        = errors.New("not a TLS handshake")
	ErrMalformed     = errors.New("malformed clienthello")
	ErrNoSNI         = errors.New("clienthello has no server name")
	ErrHelloTooLarge = errors.New("clienthello too large")
)

const (
	recordTypeHandshake  = 22
	handshakeClientHello = 1
	extServerName        = 0
	recordHeaderLen      = 5
)

// ParseClientHello extracts the SNI host name from the start of a TLS
// stream. It returns ErrNeedMore while data holds only part of the
// ClientHello (which may span several TLS records).
func ParseClientHello(data []byte) (string, error) {
	msg, err := handshakeBytes(data)
	if err != nil {
		return "", err
	}
	s := cryptobyte.String(msg)
	var typ uint8
	var length uint32
	if !s.ReadUint8(&typ) || !s.ReadUint24(&length) {
		return "", ErrNeedMore
	}
	if typ != handshakeClientHello {
		return "", ErrNotTLS
	}
	if len(s) < int(length) {
		return "", ErrNeedMore
	}
	return parseHelloBody(cryptobyte.String(s[:length]))
}

// handshakeBytes concatenates the payloads of the leading handshake records.
func handshakeBytes(data []byte) ([]byte, error) {
	var out []byte
	s := cryptobyte.String(data)
	for len(s) > 0 {
		var typ uint8
		var version uint16
		var payload cryptobyte.String
		if len(s) < recordHeaderLen {
			break
		}
		if !s.ReadUint8(&typ) || typ != recordTypeHandshake || !s.ReadUint16(&version) || version>>8 != 3 {
			return nil, ErrNotTLS
		}
		if !s.ReadUint16LengthPrefixed(&payload) {
			break
		}
		out = append(out, payload...)
	}
	if len(out) == 0 {
		return nil, ErrNeedMore
	}
	return out, nil
}

func parseHelloBody(s cryptobyte.String) (string, error) {
	var sessionID, suites, compression, exts cryptobyte.String
	if !s.Skip(2+32) || !s.ReadUint8LengthPrefixed(&sessionID) ||
		!s.ReadUint16LengthPrefixed(&suites) || !s.ReadUint8LengthPrefixed(&compression) {
		return "", ErrMalformed
	}
	if s.Empty() {
		return "", ErrNoSNI
	}
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return "", ErrMalformed
	}
	for !exts.Empty() {
		var typ uint16
		var body cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&body) {
			return "", ErrMalformed
		}
		if typ == extServerName {
			return parseServerName(body)
		}
	}
	return "", ErrNoSNI
}

func parseServerName(body cryptobyte.String) (string, error) {
	var list cryptobyte.String
	if !body.ReadUint16LengthPrefixed(&list) || !body.Empty() {
		return "", ErrMalformed
	}
	for !list.Empty() {
		var nameType uint8
		var name cryptobyte.String
		if !list.ReadUint8(&nameType) || !list.ReadUint16LengthPrefixed(&name) {
			return "", ErrMalformed
		}
		if nameType == 0 && len(name) > 0 {
			return string(name), nil
		}
	}
	return "", ErrNoSNI
}
