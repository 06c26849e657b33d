package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/internal/poll"
	"github.com/airlock-dev/airlock/internal/testutil"
	"github.com/airlock-dev/airlock/tlsmitm"
)

// loopbackIPs are the addresses the tests' own TLS endpoints are valid for.
var loopbackIPs = []net.IP{net.IPv4(127, 0, 0, 1)}

// waitLogLine waits (bounded: a hang guard, not a timing assertion) for a
// JSON log line written after offset from with message msg for which match
// holds, and fails t with the log when none comes.
func waitLogLine(t *testing.T, h *Harness, from int, msg string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	var found map[string]any
	if poll.Until(context.Background(), 15*time.Second, func() (bool, error) {
		for _, line := range strings.Split(h.Log()[from:], "\n") {
			var fields map[string]any
			if json.Unmarshal([]byte(line), &fields) == nil && fields["msg"] == msg && match(fields) {
				found = fields
				return true, nil
			}
		}
		return false, nil
	}) != nil {
		t.Fatalf("no %q log line as expected within 15s; daemon log since the attempt:\n%s", msg, logTail(h.Log()[from:]))
	}
	return found
}

// assertHandshakeFailureLogged checks the daemon logged the failed handshake
// naming the process (comm and pid) and the reason.
func assertHandshakeFailureLogged(t *testing.T, h *Harness, from int, comm, reason string) {
	t.Helper()
	line := waitLogLine(t, h, from, "tls handshake failed", func(f map[string]any) bool { return f["comm"] == comm })
	if pid, _ := line["pid"].(float64); pid <= 0 || line["reason"] != reason || line["sni"] != APIHost {
		t.Fatalf("handshake failure line %v: want pid > 0, sni %s and reason %q", line, APIHost, reason)
	}
}

// assertStillServing checks a normal request succeeds after a failure.
func assertStillServing(t *testing.T, h *Harness) {
	t.Helper()
	h.Upstream.Reset()
	prompt := "still serving after a bad client"
	body := tlsMessageBody(prompt)
	res := h.Run(t, "curl", curlMessages(body)...)
	if res.Code != 0 {
		t.Fatalf("the daemon stopped serving: curl exit %d\n%s\ndaemon:\n%s", res.Code, res.Stderr, logTail(h.Log()))
	}
	assertMessageQuotes(t, res.Stdout, prompt)
	assertUpstreamGot(t, h, "/v1/messages", body, leakedCurlKey)
}

// badClient is a client whose handshake the daemon must refuse, and the
// reason it must log for the process.
type badClient struct {
	name, comm, reason string
	cmd                []string
	exitNonZero        bool // the client itself reports the failure
}

// badClients: a ClientHello offering only TLS 1.0/1.1 (OpenSSL's security
// level lowered so curl really sends one), no cipher suite usable with our
// ECDSA leaf, only an unknown ALPN protocol, and a real ClientHello followed
// by silence (the daemon's handshake timeout, 10s by default, ends it).
func badClients(t *testing.T) []badClient {
	sClient := []string{"s_client", "-connect", APIHost + ":443", "-servername", APIHost}
	return []badClient{
		{"OldTLS", "curl", tlsmitm.ReasonOldTLS, []string{"curl", "-sS", "--max-time", "30", "--tlsv1.0", "--tls-max", "1.1",
			"--ciphers", "DEFAULT@SECLEVEL=0", "https://" + APIHost + "/v1/models"}, true},
		{"NoSharedCipher", "openssl", tlsmitm.ReasonNoCipher, append([]string{"openssl"}, append(sClient,
			"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")...), true},
		{"BadALPN", "openssl", tlsmitm.ReasonBadALPN, append([]string{"openssl"}, append(sClient, "-alpn", "spdy/1")...), true},
		{"StalledHandshake", "bash", tlsmitm.ReasonStalled, []string{"bash", "-c",
			`exec 3<>/dev/tcp/` + APIHost + `/443 && cat "$0" >&3 && cat <&3 >/dev/null`, clientHelloFile(t)}, false},
	}
}

// clientHelloFile writes a real ClientHello for the API host, as Go's TLS
// client sends it, to a file: a client that sends it and then nothing stalls
// the handshake after the server's first flight.
func clientHelloFile(t *testing.T) string {
	t.Helper()
	client, server := net.Pipe()
	defer server.Close()
	go func() {
		defer client.Close()
		_ = tls.Client(client, &tls.Config{ServerName: APIHost}).Handshake()
	}()
	header := make([]byte, 5)
	if _, err := io.ReadFull(server, header); err != nil {
		t.Fatal(err)
	}
	record := make([]byte, 5+int(header[3])<<8|int(header[4]))
	copy(record, header)
	if _, err := io.ReadFull(server, record[5:]); err != nil {
		t.Fatal(err)
	}
	return writeTempFile(t, "clienthello.bin", string(record))
}

// testBadClient runs c through the capture path: no request reaches the
// upstream, the daemon logs the process and the reason, and keeps serving.
func testBadClient(t *testing.T, h *Harness, c badClient) {
	h.Upstream.Reset()
	from := len(h.Log())
	res := h.Run(t, c.cmd[0], c.cmd[1:]...)
	if c.exitNonZero && res.Code == 0 {
		t.Fatalf("%s succeeded:\n%s\n%s", c.cmd[0], res.Stdout, res.Stderr)
	}
	assertHandshakeFailureLogged(t, h, from, c.comm, c.reason)
	if n := len(h.Upstream.Requests()); n != 0 {
		t.Fatalf("upstream received %d requests from a refused client", n)
	}
	assertStillServing(t, h)
}

// testPinningClient trusts only an unrelated CA, as a client pinning its
// expected issuer would (tlsArgs pick the TLS version): it rejects Airlock's
// leaf, the daemon logs the process and the reason, and keeps serving.
// --capath too: Debian's curl also searches /etc/ssl/certs, which trusts us.
func testPinningClient(t *testing.T, h *Harness, tlsArgs ...string) {
	h.Upstream.Reset()
	_, pinned := testutil.SelfSignedCert(t, []string{APIHost}, loopbackIPs, testutil.CommonName("Pinned Issuer CA"))
	from := len(h.Log())
	args := append(curlMessages(tlsMessageBody("pinned"), "--cacert", writeTempFile(t, "pinned.pem", string(pinned)), "--capath", t.TempDir()), tlsArgs...)
	res := h.Run(t, "curl", args...)
	if res.Code != 60 { // CURLE_PEER_FAILED_VERIFICATION
		t.Fatalf("curl trusting only an unrelated CA: exit %d, want 60\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	line := waitLogLine(t, h, from, "tls handshake failed", func(f map[string]any) bool { return f["comm"] == "curl" })
	if pid, _ := line["pid"].(float64); pid <= 0 || line["sni"] != APIHost {
		t.Fatalf("handshake failure line %v: want the process's pid and sni %s", line, APIHost)
	}
	if n := len(h.Upstream.Requests()); n != 0 {
		t.Fatalf("upstream received %d requests from a client that rejected the leaf", n)
	}
	assertStillServing(t, h)
	// Over TLS 1.3, OpenSSL's unknown_ca alert arrives in plaintext while
	// Go's server expects protected records; tlsmitm still names the reason.
	if line["reason"] != tlsmitm.ReasonRejectedCert {
		t.Fatalf("pinning client logged with reason %q (error %q), want %q",
			line["reason"], line["error"], tlsmitm.ReasonRejectedCert)
	}
}

// untrustedUpstream is a TLS server for the API host whose certificate is
// self-signed, so a verifying upstream transport must refuse it. It counts
// connections and HTTP requests: the daemon must connect, then send nothing.
type untrustedUpstream struct {
	addr            string
	conns, requests atomic.Int64
}

func startUntrustedUpstream(t *testing.T) *untrustedUpstream {
	t.Helper()
	u := &untrustedUpstream{}
	cert, _ := testutil.SelfSignedCert(t, []string{APIHost}, loopbackIPs, testutil.NotCA())
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.addr = ln.Addr().String()
	srv := &http.Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { u.requests.Add(1) }),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}},
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				u.conns.Add(1)
			}
		},
		ErrorLog:          log.New(io.Discard, "", 0),
		ReadHeaderTimeout: 30 * time.Second,
	}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return u
}

// testUntrustedUpstream points the daemon's upstream at a server whose
// certificate it cannot verify: the client gets the API's error shape with a
// 502 and api_error, and nothing reaches that server over HTTP.
func testUntrustedUpstream(t *testing.T) {
	u := startUntrustedUpstream(t)
	h := Start(t, Options{Config: fmt.Sprintf("upstream:\n  override: %q\n", u.addr)})
	res := h.Run(t, "curl", curlMessages(tlsMessageBody("to an impostor"), "-w", "\n%{http_code}")...)
	if res.Code != 0 {
		t.Fatalf("curl: exit %d\n%s\ndaemon:\n%s", res.Code, res.Stderr, logTail(h.Log()))
	}
	body, code := curlWriteOut(t, res)
	var apiErr struct {
		Type  string `json:"type"`
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &apiErr); err != nil || code != "502" || apiErr.Type != "error" || apiErr.Error.Type != "api_error" {
		t.Fatalf("client got HTTP %s %q (%v), want 502 with an api_error in the API's shape", code, body, err)
	}
	if u.conns.Load() == 0 || u.requests.Load() != 0 {
		t.Fatalf("untrusted upstream: %d connections, %d HTTP requests; want the daemon to connect and refuse", u.conns.Load(), u.requests.Load())
	}
	waitLogLine(t, h, 0, "upstream request failed", func(f map[string]any) bool {
		e, _ := f["error"].(string)
		return strings.Contains(e, "certificate signed by unknown authority")
	})
	if rec := h.LastAudit(t); rec.Status != 502 || rec.Decision != "error" {
		t.Fatalf("audit record %+v, want status 502 and decision error", rec)
	}
}
