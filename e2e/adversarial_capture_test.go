package e2e

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/audit"
)

// oldDefaultMark is the SO_MARK the daemon's sockets carried by default
// before issue 11: a public constant ("ARLK").
const oldDefaultMark = 0x41524c4b

// advDaemonMark is the mark the capture test's daemon is configured with
// (its status does not show the mark; a default one is drawn per start).
const advDaemonMark = 0x2f5e11a7

// TestAdversarialCapture attacks capture (issue 11 items 4, 6, 7 and the
// "not yet tried" list): the hostile client dials directAddr, a loopback
// address inside the captured targets where a recorder listens, so a
// connection that skips capture (or is relayed) lands there.
func TestAdversarialCapture(t *testing.T) {
	w := startWorld(t, advOptions{Config: fmt.Sprintf("capture:\n  mark: %d\n", advDaemonMark)})
	for _, sni := range []string{"other.example", "OTHER.example"} {
		t.Run("sni-"+sni, func(t *testing.T) { advOtherSNI(t, w, sni) })
	}
	t.Run("sni-trailing-dot", func(t *testing.T) { advTrailingDot(t, w) })
	t.Run("exec-before-clienthello", func(t *testing.T) { advExecSwap(t, w) })
	t.Run("so-mark", func(t *testing.T) { advSOMark(t, w) })
	t.Run("outside-cgroup", func(t *testing.T) { advOutside(t, w) })
	t.Run("nonblocking-second-connect", func(t *testing.T) { advNBConnect(t, w) })
	t.Run("udp-443", func(t *testing.T) { advUDP(t, w) })
	t.Run("tcp-non-443", func(t *testing.T) { advOtherPort(t, w) })
}

// advRequestFile is a normal Messages request with an embedded key.
func advRequestFile(t *testing.T) string {
	return tempFile(t, "req", rawRequest("POST /v1/messages HTTP/1.1", plainMessage, apiHead(APIHost)...))
}

func (w *advWorld) direct443() string { return w.directAddr + ":443" }

func sniIs(sni string) func(audit.Record) bool {
	return func(r audit.Record) bool { return strings.EqualFold(strings.TrimSuffix(r.SNI, "."), sni) }
}

func refusedSNI(sni string) func(audit.Record) bool {
	return func(r audit.Record) bool {
		return strings.EqualFold(r.SNI, sni) && strings.HasPrefix(r.Decision, "refused")
	}
}

// advOtherSNI: a ClientHello for another name to an API address is refused
// (not relayed to the address) and audited.
func advOtherSNI(t *testing.T, w *advWorld, sni string) {
	m := w.mark(t)
	res := w.hostile(t, nil, "handshake", "-addr", w.direct443(), "-sni", sni, "-insecure", "-timeout", "10s")
	if res.Notes["handshake"] == "ok" {
		t.Errorf("the handshake for %s completed (issuer %q)", sni, res.Notes["issuer"])
	}
	w.after(t, m, refusedSNI(sni))
}

// advTrailingDot: "api.anthropic.com." names the API host, so it is never
// relayed untouched to the API address (item 4). It cannot be served
// either: TLS forbids the dot (RFC 6066 §3), crypto/tls rejects such a
// ClientHello, and rewriting it would break the handshake transcript. So
// the daemon refuses it on record. Go strips the dot; openssl sends it.
func advTrailingDot(t *testing.T, w *advWorld) {
	m := w.mark(t)
	script := `cat "$1" | exec openssl s_client -quiet -connect "$2" -servername api.anthropic.com. ` +
		`-verify_return_error -verify_hostname api.anthropic.com 2>&1`
	res := w.h.Run(t, "sh", "-c", script, "sh", advRequestFile(t), w.direct443())
	if res.Code == 0 || strings.Contains(res.Stdout, "HTTP/1.1") {
		t.Errorf("openssl with SNI api.anthropic.com. got an exchange: exit %d\n%s", res.Code, tail(res.Stdout, 500))
	}
	w.after(t, m, func(r audit.Record) bool { return sniIs(APIHost)(r) && strings.HasPrefix(r.Decision, "refused") })
}

// advExecSwap: the process connects, forks a child that keeps the socket,
// and execve's /bin/sh before the child's ClientHello. The audit names the
// identity recorded at connect() and says it changed.
func advExecSwap(t *testing.T, w *advWorld) {
	m := w.mark(t)
	res := w.hostile(t, nil, "execswap", "-addr", w.direct443(), "-req", advRequestFile(t))
	if res.Status != 200 || !strings.HasSuffix(res.Notes["parent_exe"], "sh") {
		t.Fatalf("the swapped exchange: %d %s; parent exe at the ClientHello %q", res.Status, res.Error, res.Notes["parent_exe"])
	}
	w.after(t, m, statusIs(200))
	var rec *audit.Record
	for _, r := range w.newRecords(t, m) {
		if fmt.Sprint(r.Caller.PID) == res.Notes["parent_pid"] {
			rec = &r
		}
	}
	if rec == nil {
		t.Fatalf("no audit record names the connecting pid %s", res.Notes["parent_pid"])
	}
	// The kernel records the executable's file name, inode and device at
	// connect(); /proc at the ClientHello shows the shell.
	var id struct {
		ExeName    string `json:"exe_name"`
		ExeChanged bool   `json:"exe_changed"`
	}
	b, _ := json.Marshal(rec.Caller)
	if json.Unmarshal(b, &id); id.ExeName != "hostile" || !id.ExeChanged || rec.Caller.Comm != "hostile" {
		t.Errorf("the audit record does not name the identity at connect() (hostile) and say it changed: %s", b)
	}
}

// advSOMark: a process with only CAP_NET_RAW marks its socket with the mark
// the daemon's own sockets carry; it is captured all the same.
func advSOMark(t *testing.T, w *advWorld) {
	for _, mark := range []uint32{oldDefaultMark, advDaemonMark} {
		t.Run(fmt.Sprintf("%#x", mark), func(t *testing.T) {
			m := w.mark(t)
			res := w.hostile(t, []string{"setpriv", "--bounding-set=-all,+net_raw", "--inh-caps=-all"}, "mark",
				"-mark", fmt.Sprint(mark), "-addr", w.direct443(), "-req", advRequestFile(t))
			if res.Notes["setsockopt"] != "ok" {
				t.Fatalf("could not mount the attack: SO_MARK with CAP_NET_RAW: %s", res.Notes["setsockopt"])
			}
			if res.Status != 200 {
				t.Errorf("marked connection: %d %s", res.Status, res.Error)
			}
			w.after(t, m, func(r audit.Record) bool { return r.Caller.Comm == "hostile" })
		})
	}
}

// advOutside: a process outside the captured cgroup dials the listener
// directly. It gets nothing, and nothing made with the managed key exists.
func advOutside(t *testing.T, w *advWorld) {
	m := w.mark(t)
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", w.h.ListenV4,
		&tls.Config{ServerName: APIHost, InsecureSkipVerify: true})
	if err == nil {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = conn.Write([]byte(rawRequest("POST /v1/messages HTTP/1.1", plainMessage, apiHead(APIHost)...)))
		got, _ := io.ReadAll(conn)
		conn.Close()
		if len(got) > 0 {
			t.Errorf("a process outside the cgroup got an answer: %q", got[:min(len(got), 300)])
		}
	}
	if n := w.up.count() - m.up; n != 0 {
		t.Errorf("a request from outside the cgroup reached the upstream (%d)", n)
	}
	w.after(t, m, func(r audit.Record) bool { return strings.HasPrefix(r.Decision, "refused") })
}

// advNBConnect: connect() twice on a non-blocking socket; still captured.
func advNBConnect(t *testing.T, w *advWorld) {
	m := w.mark(t)
	res := w.hostile(t, nil, "nbconnect", "-addr", w.direct443(), "-req", advRequestFile(t))
	if res.Status != 200 {
		t.Errorf("non-blocking double connect: %d %s %v", res.Status, res.Error, res.Notes)
	}
	w.after(t, m, func(r audit.Record) bool { return r.Caller.Comm == "hostile" })
}

// advUDP: datagrams to port 443 of a target (QUIC's shape) do not get there;
// the kernel's refusal is the attempt's record (the daemon never sees it).
func advUDP(t *testing.T, w *advWorld) {
	m, refused := w.mark(t), w.kernelRefused(t)
	res := w.hostile(t, nil, "udp", "-addr", w.direct443())
	time.Sleep(200 * time.Millisecond) // a datagram in flight on loopback
	t.Logf("udp: %v", res.Notes)
	w.after(t, m, nil)
	if got := w.kernelRefused(t); got < refused+2 {
		t.Errorf("the kernel's refused counter went from %d to %d for a sendto and a connect", refused, got)
	}
}

// advOtherPort: TCP to a non-443 port of a target is refused or captured,
// never delivered.
func advOtherPort(t *testing.T, w *advWorld) {
	m, refused := w.mark(t), w.kernelRefused(t)
	res := w.hostile(t, nil, "raw", "-addr", w.directAddr+":8443", "-req", advRequestFile(t), "-insecure", "-timeout", "10s")
	t.Logf("tcp :8443: status %d %s", res.Status, res.Error)
	captured := func(r audit.Record) bool { return r.Caller.Comm == "hostile" }
	if res.Status != 0 { // intercepted: then a governed, audited request
		w.after(t, m, captured)
		return
	}
	w.after(t, m, nil)
	if got := w.kernelRefused(t); got <= refused {
		t.Errorf("refused without a record: the kernel's refused counter stayed at %d", got)
	}
}

// kernelRefused is the capture programs' count of refused connections and
// datagrams (API addresses, but UDP or a port that is not captured).
func (w *advWorld) kernelRefused(t *testing.T) uint64 {
	t.Helper()
	var st struct {
		Capture struct {
			Counters map[string]uint64 `json:"counters"`
		} `json:"capture"`
	}
	res := w.h.Airlock(t, "status", "--json")
	if err := json.Unmarshal([]byte(res.Stdout), &st); err != nil {
		t.Fatalf("airlock status --json: %v\n%s", err, res.Stdout)
	}
	return st.Capture.Counters["refused"]
}

// TestAdversarialStateModes (item 12): with a state directory that exists
// as 0755, the daemon makes it 0700 and the audit store's files 0600; only
// the CA's public certificate may be readable by others (inside a 0700
// directory they cannot enter).
func TestAdversarialStateModes(t *testing.T) {
	h := Prepare(t, Options{})
	if err := os.Chmod(h.StateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := h.StartDaemon(t); err != nil {
		t.Fatalf("starting airlockd: %v\n%s", err, h.Log())
	}
	if res := h.Run(t, "curl", curlMessages(plainMessage)...); res.Code != 0 {
		t.Fatalf("curl: exit %d %s", res.Code, res.Stderr)
	}
	h.LastAudit(t)
	audited := 0
	err := filepath.WalkDir(h.StateDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		audited += boolInt(strings.HasPrefix(d.Name(), "audit.db"))
		if info.Mode().Perm()&0o077 != 0 && p != filepath.Join(h.StateDir, "ca", "ca.crt") {
			t.Errorf("%s is %v: others may read it", p, info.Mode().Perm())
		}
		return nil
	})
	if err != nil || audited == 0 {
		t.Fatalf("walking the state directory: %v (audit files: %d)", err, audited)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
