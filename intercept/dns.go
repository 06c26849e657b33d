package intercept

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// TTL bounds for re-resolving target host names.
const (
	MinTTL      = 30 * time.Second
	MaxTTL      = 10 * time.Minute
	FallbackTTL = time.Minute // when only the system resolver (no TTLs) answered
)

// HostResolver resolves a host name to addresses and how long they hold.
type HostResolver interface {
	Resolve(ctx context.Context, host string) ([]netip.Addr, time.Duration, error)
}

// DNSResolver asks one nameserver for A and AAAA records directly (to learn
// their TTLs) and falls back to the system resolver with FallbackTTL.
type DNSResolver struct {
	Server   string        // host:port of the nameserver
	Timeout  time.Duration // per query
	Fallback *net.Resolver // nil = no fallback
}

// SystemDNSResolver uses the first nameserver of /etc/resolv.conf.
func SystemDNSResolver() *DNSResolver {
	return &DNSResolver{Server: resolvConfServer("/etc/resolv.conf"), Timeout: 3 * time.Second,
		Fallback: net.DefaultResolver}
}

func resolvConfServer(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "127.0.0.1:53"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "nameserver" {
			return net.JoinHostPort(fields[1], "53")
		}
	}
	return "127.0.0.1:53"
}

// Resolve returns the A and AAAA addresses of host with the smallest TTL,
// clamped to [MinTTL, MaxTTL].
func (r *DNSResolver) Resolve(ctx context.Context, host string) ([]netip.Addr, time.Duration, error) {
	var addrs []netip.Addr
	ttl := MaxTTL
	var errs []error
	for _, qt := range []layers.DNSType{layers.DNSTypeA, layers.DNSTypeAAAA} {
		got, t, err := r.query(ctx, host, qt)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		addrs, ttl = append(addrs, got...), min(ttl, t)
	}
	if len(errs) < 2 && len(addrs) > 0 {
		return addrs, clampTTL(ttl), nil
	}
	return r.fallback(ctx, host, errors.Join(errs...))
}

func (r *DNSResolver) fallback(ctx context.Context, host string, cause error) ([]netip.Addr, time.Duration, error) {
	if r.Fallback == nil {
		return nil, 0, fmt.Errorf("resolving %s: %w", host, cause)
	}
	addrs, err := r.Fallback.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, 0, fmt.Errorf("resolving %s: %w", host, errors.Join(cause, err))
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, FallbackTTL, nil
}

func clampTTL(t time.Duration) time.Duration { return min(max(t, MinTTL), MaxTTL) }

func (r *DNSResolver) query(ctx context.Context, host string, qt layers.DNSType) ([]netip.Addr, time.Duration, error) {
	id := randomID()
	q, err := buildQuery(id, host, qt)
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, orDefault(r.Timeout, 3*time.Second))
	defer cancel()
	b, err := r.exchange(ctx, "udp", q)
	if err != nil {
		return nil, 0, err
	}
	addrs, ttl, err := parseAnswer(b, id, qt)
	if errors.Is(err, errTruncated) {
		// A truncated answer may lack addresses: taking it would drop
		// targets. Ask again over TCP, as RFC 7766 says.
		if b, err = r.exchange(ctx, "tcp", q); err != nil {
			return nil, 0, err
		}
		return parseAnswer(b, id, qt)
	}
	return addrs, ttl, err
}

// exchange sends q to the server over UDP, or over TCP with the two-byte
// length prefix, and returns the answer.
func (r *DNSResolver) exchange(ctx context.Context, network string, q []byte) ([]byte, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, r.Server)
	if err != nil {
		return nil, fmt.Errorf("dns %s: %w", r.Server, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	if network == "tcp" {
		q = append(binary.BigEndian.AppendUint16(nil, uint16(len(q))), q...)
	}
	if _, err := conn.Write(q); err != nil {
		return nil, fmt.Errorf("dns %s: %w", r.Server, err)
	}
	if network == "udp" {
		buf := make([]byte, 4096)
		n, err := conn.Read(buf)
		if err != nil {
			return nil, fmt.Errorf("dns %s: %w", r.Server, err)
		}
		return buf[:n], nil
	}
	return readTCPAnswer(conn, r.Server)
}

func readTCPAnswer(conn net.Conn, server string) ([]byte, error) {
	var n [2]byte
	if _, err := io.ReadFull(conn, n[:]); err != nil {
		return nil, fmt.Errorf("dns %s over tcp: %w", server, err)
	}
	b := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(conn, b); err != nil {
		return nil, fmt.Errorf("dns %s over tcp: %w", server, err)
	}
	return b, nil
}

// orDefault is d, or def when d is not positive.
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func randomID() uint16 {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint16(b[:])
}

func buildQuery(id uint16, host string, qt layers.DNSType) ([]byte, error) {
	msg := &layers.DNS{ID: id, RD: true, QDCount: 1, Questions: []layers.DNSQuestion{
		{Name: []byte(strings.TrimSuffix(host, ".")), Type: qt, Class: layers.DNSClassIN}}}
	buf := gopacket.NewSerializeBuffer()
	if err := msg.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		return nil, fmt.Errorf("building dns query for %s: %w", host, err)
	}
	return buf.Bytes(), nil
}

// parseAnswer extracts the addresses of type qt and their smallest TTL.
// errTruncated is an answer with the TC bit: retried over TCP.
var errTruncated = errors.New("dns answer truncated")

func parseAnswer(b []byte, id uint16, qt layers.DNSType) ([]netip.Addr, time.Duration, error) {
	var msg layers.DNS
	if err := msg.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return nil, 0, fmt.Errorf("parsing dns answer: %w", err)
	}
	if msg.ID != id || !msg.QR {
		return nil, 0, errors.New("dns answer does not match the query")
	}
	if msg.TC {
		return nil, 0, errTruncated
	}
	if msg.ResponseCode != layers.DNSResponseCodeNoErr {
		return nil, 0, fmt.Errorf("dns answer: %s", msg.ResponseCode)
	}
	var addrs []netip.Addr
	ttl := MaxTTL
	for _, rr := range msg.Answers {
		if a, ok := netip.AddrFromSlice(rr.IP); ok && rr.Type == qt {
			addrs = append(addrs, a.Unmap())
			ttl = min(ttl, time.Duration(rr.TTL)*time.Second)
		}
	}
	return addrs, ttl, nil
}
