package tlsmitm

import (
	"crypto/tls"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/internal/testutil"
)

func TestServeGoClients(t *testing.T) {
	s := startServer(t, originEcho(), nil)
	for _, tc := range []struct {
		h2    bool
		proto string
	}{{false, "HTTP/1.1"}, {true, "HTTP/2.0"}} {
		c := s.client(tc.h2)
		for range 3 { // keep-alive: several requests, one connection
			resp, err := c.Get("https://" + testHost + "/v1/models")
			if err != nil {
				t.Fatalf("h2=%v: %v", tc.h2, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != tc.proto+" test-client" {
				t.Errorf("h2=%v: body %q, want %q", tc.h2, body, tc.proto+" test-client")
			}
		}
	}
}

func TestServeCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	testutil.Require(t, err == nil, "curl is not installed")
	s := startServer(t, originEcho(), nil)
	caFile := writeCAFile(t, s.ca)
	for flag, want := range map[string]string{"--http1.1": "HTTP/1.1 test-client", "--http2": "HTTP/2.0 test-client"} {
		out, err := exec.Command(curl, "-sS", "--fail", "--max-time", "30", flag,
			"--resolve", testHost+":"+s.port+":127.0.0.1", "--cacert", caFile,
			"https://"+testHost+":"+s.port+"/v1/messages").CombinedOutput()
		if err != nil || string(out) != want {
			t.Errorf("curl %s: %q, %v; want %q", flag, out, err, want)
		}
	}
}

func TestSessionResumption(t *testing.T) {
	s := startServer(t, originEcho(), nil)
	cfg := &tls.Config{RootCAs: s.roots, ServerName: testHost, ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	var resumed bool
	for range 2 {
		conn, err := tls.Dial("tcp", s.addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		// TLS 1.3 tickets arrive after the handshake: a request/response reads them.
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: "+testHost+"\r\nConnection: close\r\n\r\n")
		io.ReadAll(conn)
		resumed = conn.ConnectionState().DidResume
		conn.Close()
	}
	if !resumed {
		t.Error("second connection did not resume the TLS session")
	}
}

// Each bad handshake ends the connection with a log line naming the process
// and the reason, and the server keeps serving.
func TestBadHandshakes(t *testing.T) {
	s := startServer(t, originEcho(), func(c *ServerConfig) { c.HandshakeTimeout = 300 * time.Millisecond })
	cases := []struct {
		name, reason string
		cfg          *tls.Config
	}{
		{"tls1.1 only", ReasonOldTLS, &tls.Config{ServerName: testHost, RootCAs: s.roots, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}},
		{"no shared cipher", ReasonNoCipher, &tls.Config{ServerName: testHost, RootCAs: s.roots, MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}},
		{"bad alpn", ReasonBadALPN, &tls.Config{ServerName: testHost, RootCAs: s.roots, NextProtos: []string{"spdy/3"}}},
		{"pinning client", ReasonRejectedCert, &tls.Config{ServerName: testHost}},
		{"unknown sni", ReasonUnknownSNI, &tls.Config{ServerName: "example.com", RootCAs: s.roots}},
	}
	for _, tc := range cases {
		conn, err := tls.Dial("tcp", s.addr, tc.cfg)
		if err == nil {
			conn.Close()
			t.Errorf("%s: handshake succeeded", tc.name)
			continue
		}
		e := s.waitLog(t, tc.reason)
		if e.ContextMap()["comm"] != "test-client" || e.ContextMap()["pid"] != int64(4242) {
			t.Errorf("%s: log line does not name the process: %v", tc.name, e.ContextMap())
		}
	}
	t.Run("stall", func(t *testing.T) { expectClosed(t, s, "") })
	t.Run("not tls", func(t *testing.T) { expectClosed(t, s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") })
	s.waitLog(t, ReasonStalled)
	s.waitLog(t, ReasonNotTLS)
	resp, err := s.client(true).Get("https://" + testHost + "/")
	if err != nil {
		t.Fatalf("server stopped serving after bad handshakes: %v", err)
	}
	resp.Body.Close()
}

// expectClosed sends data (or nothing) and expects the server to hang up.
func expectClosed(t *testing.T, s *testServer, data string) {
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, data)
	conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // hang guard only
	_, err = io.ReadAll(conn)
	if err != nil && strings.Contains(err.Error(), "timeout") {
		t.Fatal("server did not close the connection")
	}
}
