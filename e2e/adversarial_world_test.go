package e2e

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/internal/fakeapi"
)

// The adversarial suite (issue 11) runs a hostile client inside the captured
// cgroup against the real airlockd. The daemon runs WITHOUT upstream.override,
// as in production: in a private mount namespace whose /etc/hosts resolves
// api.anthropic.com to a recording fake API on a random loopback address
// (port 443) and attackerHost to a recording attacker, a TLS server whose
// certificate the daemon trusts (as a real attacker's would be). After each
// attack the world checks: the attacker and the direct destinations saw
// nothing, the upstream saw only the managed key and only audited requests,
// the daemon is alive, and the audit has a record of the attempt.

const attackerHost = "attacker.example"

// advWorld is one daemon with its recording upstream, attacker and the
// direct destinations an uncaptured connection would reach.
type advWorld struct {
	h        *Harness
	up       *recUpstream
	attacker *recorder // TLS on attackerAddr: where a steered request would go
	direct   *recorder // TCP on directAddr:443, inside Targets: where a skipped capture lands
	alt      *recorder // TCP on directAddr:8443: a non-443 port in the target range
	udp      *udpRecorder
	// directAddr is a loopback address in Targets the hostile client dials.
	directAddr string
}

// advOptions shape one world's daemon.
type advOptions struct {
	Policy   string
	Config   string // merged after the world's upstream settings
	Protocol string // upstream.protocol: "" (h2) or "http1"
}

// startWorld starts the recorders and a daemon that resolves the API host
// to the recording upstream.
func startWorld(t *testing.T, o advOptions) *advWorld {
	t.Helper()
	w := &advWorld{up: startRecUpstream(t)}
	w.attacker = startRecorder(t, "tcp4", randomLoopback()+":0", []string{attackerHost})
	w.direct, w.directAddr = startDirectRecorder(t)
	w.alt = startRecorder(t, "tcp4", w.directAddr+":8443", nil)
	w.udp = startUDPRecorder(t, w.directAddr+":443")
	caFile := filepath.Join(t.TempDir(), "upstream-cas.pem")
	writeFile(t, caFile, string(w.up.caPEM)+string(w.attacker.caPEM), 0o644)
	hosts := filepath.Join(t.TempDir(), "hosts")
	writeFile(t, hosts, fmt.Sprintf("127.0.0.1 localhost\n%s %s\n%s %s\n", w.up.ip, APIHost,
		w.attacker.ip, attackerHost), 0o644)
	proto := o.Protocol
	if proto == "" {
		proto = "h2"
	}
	w.h = Start(t, Options{Policy: o.Policy, Timeout: 2 * time.Minute,
		Config: fmt.Sprintf("upstream:\n  override: \"\"\n  extra_ca_file: %s\n  protocol: %s\n%s", caFile, proto, o.Config),
		// /etc/hosts of the daemon only: a private mount namespace.
		Wrapper: []string{"unshare", "--mount", "--propagation", "private", "--",
			"sh", "-c", `mount --bind "$0" /etc/hosts && exec "$@"`, hosts}})
	return w
}

// randomLoopback is an address in 127/8 outside 127.0.0.0/16 (the harness's
// targets and listeners): parallel tests pick different ones.
func randomLoopback() string {
	return fmt.Sprintf("127.%d.%d.%d", 101+rand.IntN(150), rand.IntN(256), 1+rand.IntN(254))
}

// startDirectRecorder listens on port 443 of a free address in Targets.
func startDirectRecorder(t *testing.T) (*recorder, string) {
	t.Helper()
	for range 20 {
		addr := fmt.Sprintf("127.0.100.%d", 2+rand.IntN(250))
		if r, err := listenRecorder(t, "tcp4", addr+":443", nil); err == nil {
			return r, addr
		}
	}
	t.Fatal("no free address in 127.0.100.0/24 for the direct recorder")
	return nil, ""
}

// seenRequest is one request as the recording upstream received it.
type seenRequest struct {
	fakeapi.Request
	Trailer http.Header
	ReqID   string // the Request-Id the upstream answered with
}

// recUpstream is the fake API on <random loopback>:443, recording every
// request with its trailers, plus the hostile-upstream scenarios (sse.go).
type recUpstream struct {
	api   *fakeapi.Server
	ip    string
	caPEM []byte
	mu    sync.Mutex
	seen  []seenRequest
}

func startRecUpstream(t *testing.T) *recUpstream {
	t.Helper()
	u := &recUpstream{api: fakeapi.New(fakeapi.Config{APIKeys: []string{ManagedKey}})}
	cert, caPEM := selfSignedAPICert(t)
	u.caPEM = caPEM
	var ln net.Listener
	var err error
	for range 20 {
		u.ip = randomLoopback()
		if ln, err = net.Listen("tcp4", u.ip+":443"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("listening for the recording upstream: %v", err)
	}
	srv := &http.Server{Handler: u, ReadHeaderTimeout: 30 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return u
}

func (u *recUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 40<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if s := hostileStreams[r.Header.Get(advScenarioHeader)]; s != nil {
		w.Header().Set("Request-Id", fmt.Sprintf("req_hostile_%d", time.Now().UnixNano()))
		u.record(r, body, w.Header().Get("Request-Id"))
		s(w, r)
		return
	}
	u.api.ServeHTTP(w, r)
	u.record(r, body, w.Header().Get("Request-Id"))
}

func (u *recUpstream) record(r *http.Request, body []byte, id string) {
	s := seenRequest{Request: fakeapi.Request{Method: r.Method, URI: r.URL.RequestURI(), Path: r.URL.Path,
		Proto: r.Proto, Host: r.Host, Header: r.Header.Clone(), Body: body, Time: time.Now()},
		Trailer: r.Trailer.Clone(), ReqID: id}
	u.mu.Lock()
	u.seen = append(u.seen, s)
	u.mu.Unlock()
}

// since returns the requests after the first n.
func (u *recUpstream) since(n int) []seenRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seenRequest(nil), u.seen[min(n, len(u.seen)):]...)
}

func (u *recUpstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.seen)
}

// recorder accepts TCP connections and keeps every byte it receives; with
// names, it also completes TLS with a certificate for them (and its IP) that
// the daemon trusts, and answers HTTP like an API would, so that a request
// steered there would carry whatever credential the daemon put on it.
type recorder struct {
	ln    net.Listener
	ip    string
	caPEM []byte
	mu    sync.Mutex
	conns int
	bytes bytes.Buffer // everything received, as sent
	plain bytes.Buffer // the TLS recorder's decrypted request heads
}

func startRecorder(t *testing.T, network, addr string, names []string) *recorder {
	t.Helper()
	r, err := listenRecorder(t, network, addr, names)
	if err != nil {
		t.Fatalf("recorder on %s: %v", addr, err)
	}
	return r
}

func listenRecorder(t *testing.T, network, addr string, names []string) (*recorder, error) {
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	r := &recorder{ln: ln, ip: ln.Addr().(*net.TCPAddr).IP.String()}
	t.Cleanup(func() { ln.Close() })
	if names == nil {
		go r.acceptRaw()
		return r, nil
	}
	cert, caPEM := certFor(t, names, []net.IP{net.ParseIP(r.ip)})
	r.caPEM = caPEM
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.plain.WriteString(req.Method + " " + req.Host + req.RequestURI + "\n" + headerText(req.Header))
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"type":"message","content":[{"type":"text","text":"the attacker thanks you"}]}`)
	}), TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}}
	go srv.ServeTLS(recordingListener{ln, r}, "", "")
	t.Cleanup(func() { srv.Close() })
	return r, nil
}

// Addr is the recorder's host:port.
func (r *recorder) Addr() string { return r.ln.Addr().String() }

func (r *recorder) acceptRaw() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.noteConn()
		go func() {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = io.Copy(io.Discard, recordingConn{c, r})
		}()
	}
}

// seen returns the connection count and the bytes received so far.
func (r *recorder) seen() (int, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conns, r.bytes.String()
}

// decrypted is what the TLS recorder read inside TLS: request lines and headers.
func (r *recorder) decrypted() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.plain.String()
}

type recordingListener struct {
	net.Listener
	r *recorder
}

func (l recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.r.noteConn()
	return recordingConn{c, l.r}, nil
}

// recordingConn counts itself on creation (via Accept) and records reads.
type recordingConn struct {
	net.Conn
	r *recorder
}

func (c recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.r.mu.Lock()
	if c.r.bytes.Len() < 1<<20 {
		c.r.bytes.Write(p[:n])
	}
	c.r.mu.Unlock()
	return n, err
}

func (r *recorder) noteConn() {
	r.mu.Lock()
	r.conns++
	r.mu.Unlock()
}

// udpRecorder keeps every datagram sent to its address.
type udpRecorder struct {
	mu    sync.Mutex
	grams []string
}

func startUDPRecorder(t *testing.T, addr string) *udpRecorder {
	t.Helper()
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		t.Fatalf("udp recorder on %s: %v", addr, err)
	}
	t.Cleanup(func() { pc.Close() })
	u := &udpRecorder{}
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			u.mu.Lock()
			u.grams = append(u.grams, string(buf[:n]))
			u.mu.Unlock()
		}
	}()
	return u
}

func (u *udpRecorder) seen() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.grams...)
}

// auditAll is every audit record, oldest first.
func (w *advWorld) auditAll(t *testing.T) []audit.Record {
	t.Helper()
	res := w.h.Airlock(t, "audit", "list", "--json", "--limit", "0")
	var recs []audit.Record
	if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &recs) != nil {
		t.Fatalf("airlock audit list: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	return recs
}

// daemonPID is airlockd's pid (the wrapper execs it, so it is the child's).
func (w *advWorld) daemonPID(t *testing.T) int {
	t.Helper()
	if w.h.daemon == nil {
		t.Fatal("airlockd is not running")
	}
	return w.h.daemon.cmd.Process.Pid
}

// rssKB reads VmRSS of airlockd.
func (w *advWorld) rssKB(t *testing.T) int {
	t.Helper()
	kb := readRSS(w.daemonPID(t))
	if kb == 0 {
		t.Fatal("no VmRSS for airlockd")
	}
	return kb
}

// hostileBin is e2e/testdata/hostile, built once per test binary.
func hostileBin(t *testing.T) string { return testdataCommand(t, "hostile") }
