//go:build linux

package intercept

import (
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/internal/testutil"
)

// Hostile clients in the captured cgroup against the real hooks (issue 11):
// each test fails on a build without the defence it names.

// TestNonAPISNIRefused: a connection to an API address whose SNI is not an
// API host is closed, never relayed, and reported with its caller.
func TestNonAPISNIRefused(t *testing.T) {
	origin := newOriginServer(t, "127.0.100.1:0")
	h := newHarness(t, testTargets, origin.addr.Port())
	h.listen()
	p := h.startHelper("HELPER_DIAL="+origin.addr.String(), "HELPER_RAW_SNI=Other.Example")
	if res := p.wait(t); res.Response != "" {
		t.Errorf("the client got an answer: %+v", res)
	}
	d := h.nextDecision()
	if d.Kind != DecisionRefusedSNI || d.Origin.SNI != "other.example" || d.Origin.Dst != origin.addr || d.Origin.Process.PID != p.pid() {
		t.Errorf("decision %s sni %q dst %s pid %d; want refused_sni other.example %s %d",
			d.Kind, d.Origin.SNI, d.Origin.Dst, d.Origin.Process.PID, origin.addr, p.pid())
	}
	if n := origin.accepted.Load(); n != 0 {
		t.Errorf("the original destination accepted %d connections, want 0", n)
	}
}

// TestTrailingDotSNIIntercepted: "API.Test." is the API host, so it is
// never relayed; since no TLS stack will serve a name with the dot (RFC
// 6066 §3), the listener refuses it on record with an unrecognized_name
// alert instead of letting the handshake fail unaudited.
func TestTrailingDotSNIIntercepted(t *testing.T) {
	origin := newOriginServer(t, "127.0.100.1:0")
	h := newHarness(t, testTargets, origin.addr.Port())
	h.listen()
	res := h.runHelper("HELPER_DIAL="+origin.addr.String(), "HELPER_RAW_SNI=API.Test.")
	if res.Response != string(alertUnrecognizedName) {
		t.Errorf("client got %q (error %q), want the unrecognized_name alert", res.Response, res.Error)
	}
	d := h.nextDecision()
	if d.Kind != DecisionRefusedSNI || d.Origin.SNI != testAPIHost || !strings.Contains(d.Reason, "trailing dot") {
		t.Errorf("decision %s sni %q reason %q, want refused_sni for %s (trailing dot)", d.Kind, d.Origin.SNI, d.Reason, testAPIHost)
	}
	if n := origin.accepted.Load(); n != 0 {
		t.Errorf("the original destination accepted %d connections, want 0", n)
	}
}

// TestMarkWithOnlyNetRaw: a process holding only CAP_NET_RAW sets SO_MARK to
// the daemon's mark; it is still redirected (the daemon is this process).
func TestMarkWithOnlyNetRaw(t *testing.T) {
	origin := newOriginServer(t, "127.0.100.1:0")
	h := newHarness(t, testTargets, origin.addr.Port())
	if err := h.loader.setExclusions(uint32(os.Getpid()), 0); err != nil {
		t.Fatal(err)
	}
	h.listen()
	res := h.runHelper("HELPER_DIAL="+origin.addr.String(), "HELPER_SNI="+testAPIHost,
		"HELPER_MARK="+itoa(h.cfg.Mark), "HELPER_ONLY_NET_RAW=1")
	if !strings.HasPrefix(res.Response, "api:") {
		t.Errorf("marked client got %q (error %q), want the API handler's answer", res.Response, res.Error)
	}
	if n := origin.accepted.Load(); n != 0 {
		t.Errorf("the marked client reached the original destination (%d connections)", n)
	}
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

// TestExecAfterConnect: the caller connects, then execs /bin/sh, which
// sends the ClientHello. The origin names the executable that connected
// and says it changed; Exe is what /proc shows now.
func TestExecAfterConnect(t *testing.T) {
	origin := newOriginServer(t, "127.0.100.1:0")
	h := newHarness(t, testTargets, origin.addr.Port())
	h.lenient = true
	h.listen()
	hello := filepath.Join(t.TempDir(), "hello")
	if err := os.WriteFile(hello, rawClientHello(testAPIHost), 0o644); err != nil {
		t.Fatal(err)
	}
	p := h.startHelper("HELPER_MODE=exec", "HELPER_DIAL="+origin.addr.String(), "HELPER_HELLO_FILE="+hello)
	o := h.nextOrigin()
	p.stdin.Close()
	_ = p.cmd.Wait()
	self := selfExe(t)
	got := o.Process
	if !got.ExeChanged || got.ExeIno != self.ino || got.ExeName != self.name || got.PID != p.pid() {
		t.Errorf("process = %+v; want exe_changed, exe_ino %d, exe_name %q, pid %d", got, self.ino, self.name, p.pid())
	}
	if sh, _ := filepath.EvalSymlinks("/bin/sh"); got.Exe != sh {
		t.Errorf("exe = %q, want /proc's view %q", got.Exe, sh)
	}
}

type exeIdentity struct {
	ino  uint64
	name string
}

func selfExe(t *testing.T) exeIdentity {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(exe, &st); err != nil {
		t.Fatal(err)
	}
	return exeIdentity{ino: st.Ino, name: filepath.Base(exe)}
}

// TestNonblockingSecondConnect: connect() again on a socket whose
// redirected connect is in progress (to the target, then elsewhere) neither
// escapes nor changes the record.
func TestNonblockingSecondConnect(t *testing.T) {
	origin := newOriginServer(t, "127.0.100.1:0")
	elsewhere := newOriginServer(t, "127.0.0.1:0")
	h := newHarness(t, testTargets, origin.addr.Port())
	h.listen()
	p := h.startHelper("HELPER_MODE=nonblock", "HELPER_DIAL="+origin.addr.String(),
		"HELPER_DIAL2="+elsewhere.addr.String(), "HELPER_SNI="+testAPIHost)
	res := p.wait(t)
	if !strings.HasPrefix(res.Response, "api:") || res.Peer != origin.addr.String() {
		t.Fatalf("client got %q peer %s (error %q, steps %v), want the API via the redirect", res.Response, res.Peer, res.Error, res.Steps)
	}
	if res.Steps["first"] != "operation now in progress" {
		t.Errorf("first connect: %q, want EINPROGRESS (steps %v)", res.Steps["first"], res.Steps)
	}
	assertOrigin(t, h, h.nextOrigin(), origin.addr, p.pid())
	if n := origin.accepted.Load() + elsewhere.accepted.Load(); n != 0 {
		t.Errorf("%d connections escaped to the destinations, want 0", n)
	}
}

// TestReconnectForgetsRecord: a socket redirected once, dissolved with
// AF_UNSPEC and connected elsewhere, keeps no record: getpeername tells
// the truth and the listener would not know the new connection.
func TestReconnectForgetsRecord(t *testing.T) {
	origin := newOriginServer(t, "127.0.100.1:0")
	elsewhere := newOriginServer(t, "127.0.0.1:0")
	h := newHarness(t, testTargets, origin.addr.Port())
	h.listen()
	res := h.runHelper("HELPER_MODE=reconnect", "HELPER_DIAL="+origin.addr.String(), "HELPER_DIAL2="+elsewhere.addr.String())
	if res.Steps["first"] != "ok" || res.Steps["second"] != "ok" {
		t.Fatalf("steps %v", res.Steps)
	}
	if res.Peer != elsewhere.addr.String() || res.Response != "origin" {
		t.Errorf("after reconnecting: peer %s response %q, want %s and its greeting", res.Peer, res.Response, elsewhere.addr)
	}
	var peer netip.AddrPort
	if d := h.nextDecision(); d.Kind == DecisionRefusedSNI {
		peer = d.Origin.Peer // the dissolved first connection
	}
	if _, err := h.loader.Lookup(h.loader.HostNetns(), peer); err == nil {
		t.Errorf("a record is still indexed for %s", peer)
	}
}

// TestUDPToTargetsRefused: UDP to an API address — unconnected (v4 and
// v4-mapped v6) or connected — is refused: QUIC would bypass the listener.
func TestUDPToTargetsRefused(t *testing.T) {
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	h := newHarness(t, testTargets, 443)
	h.listen()
	res := h.runHelper("HELPER_MODE=udp", "HELPER_DIAL=127.0.100.1:443", "HELPER_DIAL2="+udp.LocalAddr().String())
	for _, step := range []string{"sendto", "sendto_mapped", "connect"} {
		if res.Steps[step] != "operation not permitted" {
			t.Errorf("%s to an API address: %q, want EPERM", step, res.Steps[step])
		}
	}
	if res.Steps["control"] != "ok" {
		t.Errorf("UDP to a non-API address: %q, want ok", res.Steps["control"])
	}
	buf := make([]byte, 16)
	_ = udp.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, _, err := udp.ReadFrom(buf); err != nil || string(buf[:n]) != "quic?" {
		t.Errorf("control datagram: %q, %v", buf[:n], err)
	}
}

// TestOutsideCgroupDirect: a process outside the captured cgroup that
// connects to the listener itself is refused and reported: it has no
// record, so it never reaches the API handler (nor the managed key).
func TestOutsideCgroupDirect(t *testing.T) {
	h := newHarness(t, testTargets, 443)
	h.listen()
	v4, _ := h.ln.Addrs()
	c, err := net.DialTimeout("tcp", v4.String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	_, _ = c.Write(rawClientHello(testAPIHost))
	if b, _ := io.ReadAll(c); len(b) != 0 {
		t.Errorf("the listener answered a connection without a record: %q", b)
	}
	d := h.nextDecision()
	if d.Kind != DecisionRefusedNoRecord || d.Origin.Peer.String() != c.LocalAddr().String() {
		t.Errorf("decision %s for peer %s, want refused_no_record for %s", d.Kind, d.Origin.Peer, c.LocalAddr())
	}
	select {
	case o := <-h.origins:
		t.Errorf("a connection without a record reached the API handler: %+v", o)
	default:
	}
}

// TestAbortedConnectionLeavesNoRecord: a redirected connection reset while
// still queued at the listener takes its record with it, so whoever binds
// that client address next (from anywhere) is not accepted in its name.
func TestAbortedConnectionLeavesNoRecord(t *testing.T) {
	h := newHarness(t, testTargets, 443)
	queue := listenTCP(t, "127.0.0.1:0") // never accepts
	defer queue.Close()
	if err := h.loader.SetListeners(queue.Addr().(*net.TCPAddr).AddrPort(), netip.AddrPort{}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "local")
	p := h.startHelper("HELPER_MODE=abort", "HELPER_DIAL=127.0.100.1:443", "HELPER_LOCAL_FILE="+file)
	local := waitForFile(t, file)
	key := peerKey(h.loader.HostNetns(), netip.MustParseAddrPort(local))
	var r redirectRecord
	if err := h.loader.objs.RecordsByPeer.Lookup(&key, &r); err != nil {
		t.Fatalf("no record indexed for the queued connection from %s: %v", local, err)
	}
	if res := p.wait(t); res.Error != "ok" {
		t.Fatalf("helper: %s", res.Error)
	}
	if err := h.loader.objs.RecordsByPeer.Lookup(&key, &r); err == nil {
		t.Errorf("the record of the reset connection from %s is still indexed", local)
	}
}

// waitForFile polls for a file the helper writes (a hang guard bounds it).
func waitForFile(t *testing.T, path string) string {
	t.Helper()
	var b []byte
	testutil.Eventually(t, 10*time.Second, "the helper to write "+path, func() bool {
		var err error
		b, err = os.ReadFile(path)
		return err == nil && len(b) > 0
	})
	return string(b)
}
