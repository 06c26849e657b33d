package intercept

import (
	"context"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/internal/poll"
)

type lookupFunc func(netip.AddrPort) (Record, error)

func (f lookupFunc) Lookup(_ uint64, p netip.AddrPort) (Record, error) { return f(p) }

// startTestListener serves a Listener whose records come from lookup and
// whose API connections are reported on the returned channel.
func startTestListener(t *testing.T, cfg Config, lookup RecordLookup) (*Listener, *observer.ObservedLogs, chan *caller.Origin) {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	got := make(chan *caller.Origin, 4)
	handler := APIHandlerFunc(func(ctx context.Context, conn net.Conn, o *caller.Origin) {
		defer conn.Close()
		buf := make([]byte, 5)
		if _, err := io.ReadFull(conn, buf); err != nil || buf[0] != 22 {
			t.Errorf("API handler did not read the ClientHello first: %v %v", buf, err)
		}
		got <- o
	})
	cfg.ListenV4, cfg.ListenV6 = netip.MustParseAddrPort("127.0.0.1:0"), netip.MustParseAddrPort("[::1]:0")
	ln, err := NewListener(cfg, lookup, handler, nil, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = ln.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln, logs, got
}

// TestListenerBadInput: each bad client is closed with a log line naming the
// peer and the reason, and the listener keeps serving.
func TestListenerBadInput(t *testing.T) {
	dst := netip.MustParseAddrPort("127.0.100.9:443")
	cfg := Config{APIHosts: []string{"api.test"}, PeekTimeout: 500 * time.Millisecond, MaxClientHello: 1024}
	ln, logs, got := startTestListener(t, cfg, lookupFunc(func(netip.AddrPort) (Record, error) {
		return Record{Dst: dst, TGID: 1}, nil
	}))
	v4, _ := ln.Addrs()
	oversized := append([]byte{22, 3, 1, 0x3f, 0xff}, make([]byte, 2000)...)
	oversized[5] = 1
	tests := []struct {
		name, reason string
		data         []byte
	}{
		{"non-TLS", ErrNotTLS.Error(), []byte("GET / HTTP/1.1\r\n\r\n")},
		{"truncated", ErrNeedMore.Error(), clientHello(t, "api.test")[:40]},
		{"oversized", ErrHelloTooLarge.Error(), oversized},
		{"no SNI", ErrNoSNI.Error(), clientHello(t, "")},
		{"silent", "timeout", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			local := sendAndWaitClose(t, v4, tt.data)
			assertLogged(t, logs, local, tt.reason)
		})
	}
	c := dialListener(t, v4)
	_, _ = c.Write(clientHello(t, "api.test"))
	select {
	case o := <-got:
		if o.Dst != dst || o.SNI != "api.test" || o.Process.PID != 1 {
			t.Errorf("origin = %+v", o)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("listener stopped serving after bad clients")
	}
}

func TestListenerNoRecord(t *testing.T) {
	ln, logs, _ := startTestListener(t, Config{}, lookupFunc(func(p netip.AddrPort) (Record, error) {
		return Record{}, ErrNoRecord
	}))
	_, v6 := ln.Addrs()
	local := sendAndWaitClose(t, v6, clientHello(t, "api.test"))
	assertLogged(t, logs, local, ErrNoRecord.Error())
}

func dialListener(t *testing.T, addr netip.AddrPort) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr.String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second)) // hang guard only
	return c
}

// sendAndWaitClose writes data (then half-closes if any was sent) and
// waits for the listener to close the connection.
func sendAndWaitClose(t *testing.T, addr netip.AddrPort, data []byte) string {
	t.Helper()
	c := dialListener(t, addr)
	if data != nil {
		_, _ = c.Write(data)
		_ = c.(*net.TCPConn).CloseWrite()
	}
	if _, err := io.ReadAll(c); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("waiting for the listener to close: %v", err)
	}
	return c.LocalAddr().String()
}

func assertLogged(t *testing.T, logs *observer.ObservedLogs, peer, reason string) {
	t.Helper()
	if poll.Until(context.Background(), 2*time.Second, func() (bool, error) { // the log line may land just after the close
		for _, e := range logs.All() {
			f := e.ContextMap()
			if f["peer"] == peer && strings.Contains(f["error"].(string), reason) {
				return true, nil
			}
		}
		return false, nil
	}) != nil {
		t.Errorf("no log line naming peer %s and reason %q; got %v", peer, reason, logs.All())
	}
}
