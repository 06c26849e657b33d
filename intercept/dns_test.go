package intercept

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// fakeDNS answers A and AAAA queries on loopback UDP from a fixed table.
type fakeDNS struct {
	addr string
	a    []netip.Addr
	aaaa []netip.Addr
	ttl  uint32
	// truncate answers UDP with the TC bit and no records; the full answer
	// comes over TCP on the same port.
	truncate bool
}

func startFakeDNS(t *testing.T, d *fakeDNS) *fakeDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	d.addr = pc.LocalAddr().String()
	go d.serve(pc)
	return d
}

func (d *fakeDNS) serve(pc net.PacketConn) {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		var q layers.DNS
		if q.DecodeFromBytes(buf[:n], gopacket.NilDecodeFeedback) != nil || len(q.Questions) != 1 {
			continue
		}
		a := d.answer(&q)
		if d.truncate {
			a.TC, a.Answers = true, nil
		}
		out := gopacket.NewSerializeBuffer()
		if a.SerializeTo(out, gopacket.SerializeOptions{FixLengths: true}) == nil {
			_, _ = pc.WriteTo(out.Bytes(), from)
		}
	}
}

// serveTCP answers one query per connection, length-prefixed.
func (d *fakeDNS) serveTCP(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		var n [2]byte
		buf := make([]byte, 1500)
		if _, err := io.ReadFull(c, n[:]); err == nil {
			buf = buf[:binary.BigEndian.Uint16(n[:])]
			var q layers.DNS
			if _, err := io.ReadFull(c, buf); err == nil && q.DecodeFromBytes(buf, gopacket.NilDecodeFeedback) == nil && len(q.Questions) == 1 {
				out := gopacket.NewSerializeBuffer()
				if d.answer(&q).SerializeTo(out, gopacket.SerializeOptions{FixLengths: true}) == nil {
					_, _ = c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(out.Bytes()))), out.Bytes()...))
				}
			}
		}
		c.Close()
	}
}

// A truncated UDP answer is asked again over TCP: taking it as it is would
// drop every address it left out.
func TestDNSResolverRetriesTruncatedOverTCP(t *testing.T) {
	d := startFakeDNS(t, &fakeDNS{ttl: 120, truncate: true, a: []netip.Addr{netip.MustParseAddr("127.0.100.9")}})
	ln, err := net.Listen("tcp", d.addr)
	if err != nil {
		t.Skipf("the UDP port is taken for TCP: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	go d.serveTCP(ln)
	addrs, _, err := (&DNSResolver{Server: d.addr}).Resolve(context.Background(), "api.example.test")
	if err != nil || !slices.Contains(addrs, netip.MustParseAddr("127.0.100.9")) {
		t.Fatalf("Resolve = %v, %v; want the address only the TCP answer carries", addrs, err)
	}
}

func (d *fakeDNS) answer(q *layers.DNS) *layers.DNS {
	r := &layers.DNS{ID: q.ID, QR: true, RD: true, RA: true, Questions: q.Questions}
	src := d.a
	if q.Questions[0].Type == layers.DNSTypeAAAA {
		src = d.aaaa
	}
	for _, a := range src {
		r.Answers = append(r.Answers, layers.DNSResourceRecord{Name: q.Questions[0].Name,
			Type: q.Questions[0].Type, Class: layers.DNSClassIN, TTL: d.ttl, IP: a.AsSlice()})
	}
	return r
}

func TestDNSResolver(t *testing.T) {
	tests := []struct {
		name    string
		ttl     uint32
		wantTTL time.Duration
	}{
		{"ttl kept", 120, 120 * time.Second},
		{"short ttl clamped up", 5, MinTTL},
		{"long ttl clamped down", 86400, MaxTTL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := startFakeDNS(t, &fakeDNS{ttl: tt.ttl,
				a:    []netip.Addr{netip.MustParseAddr("127.0.100.7"), netip.MustParseAddr("127.0.100.8")},
				aaaa: []netip.Addr{netip.MustParseAddr("fd00:a1::7")}})
			r := &DNSResolver{Server: d.addr, Timeout: 5 * time.Second}
			addrs, ttl, err := r.Resolve(context.Background(), "api.test")
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(addrs, netip.Addr.Compare)
			want := append(slices.Clone(d.a), d.aaaa...)
			if !slices.Equal(addrs, want) || ttl != tt.wantTTL {
				t.Errorf("Resolve = %v, %v; want %v, %v", addrs, ttl, want, tt.wantTTL)
			}
		})
	}
}

func TestDNSResolverUnreachable(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := pc.LocalAddr().String()
	pc.Close() // nothing answers there: queries fail, no fallback configured
	r := &DNSResolver{Server: dead, Timeout: time.Second}
	if addrs, _, err := r.Resolve(context.Background(), "api.test"); err == nil {
		t.Errorf("Resolve against a dead server = %v, want an error", addrs)
	}
}

func TestResolvConfServer(t *testing.T) {
	f := t.TempDir() + "/resolv.conf"
	writeFile(t, f, "# comment\nsearch example\nnameserver 10.0.0.53\nnameserver 10.0.0.54\n")
	if got := resolvConfServer(f); got != "10.0.0.53:53" {
		t.Errorf("resolvConfServer = %q", got)
	}
}
