//go:build linux

package intercept

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/internal/testutil"
)

const testAPIHost = "api.test"

// harness is one capture set-up: a child cgroup, a unique pin dir, the
// loaded programs, a listener and an API handler that terminates TLS with
// the test certificate and answers "api".
type harness struct {
	t       *testing.T
	cfg     Config
	cgroup  string
	loader  *Loader
	ln      *Listener
	cert    testCert
	origins chan *caller.Origin
	decided chan Decision // relays and refusals the listener reported
	lenient bool          // the client will not finish TLS: the API handler only records the origin
	cancel  context.CancelFunc
	served  chan struct{}
	nsLog   *zap.Logger // serveNamespaces' logger; nil: the test's
}

func newHarness(t *testing.T, targets []netip.Prefix, port uint16) *harness {
	t.Helper()
	testutil.RequirePrivileged(t, "loading and attaching eBPF programs")
	h := &harness{t: t, cgroup: testutil.NewCgroup(t), cert: newTestCert(t, testAPIHost, "relay.test"),
		origins: make(chan *caller.Origin, 16), decided: make(chan Decision, 16)}
	h.cfg = Config{CgroupPath: h.cgroup, PinDir: testutil.PinDir(t), Mark: 0x5eed,
		ListenV4: netip.MustParseAddrPort("127.0.0.1:0"), ListenV6: netip.MustParseAddrPort("[::1]:0"),
		Targets: targets, Ports: []uint16{port}, APIHosts: []string{testAPIHost}, PeekTimeout: 10 * time.Second}
	loader, err := Load(h.cfg)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	h.loader = loader
	t.Cleanup(func() { _ = h.loader.Detach() })
	if err := loader.SetTargets(ExpandTargets(targets, h.cfg.Ports)); err != nil {
		t.Fatalf("SetTargets: %v", err)
	}
	return h
}

// listen opens the listener (in the calling thread's netns) and serves it.
func (h *harness) listen() {
	h.t.Helper()
	ln, err := NewListener(h.cfg, h.loader, APIHandlerFunc(h.serveAPI), h.reporter(), zaptest.NewLogger(h.t))
	if err != nil {
		h.t.Fatalf("NewListener: %v", err)
	}
	h.ln = ln
	v4, v6 := ln.Addrs()
	if err := h.loader.SetNetnsListener(ln.Netns(), v4, v6); err != nil {
		h.t.Fatalf("SetListeners: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.served = cancel, make(chan struct{})
	go func() { _ = ln.Serve(ctx); close(h.served) }()
	h.t.Cleanup(h.stop)
}

func (h *harness) reporter() Reporter {
	return ReporterFunc(func(_ context.Context, d Decision) error {
		h.decided <- d
		return nil
	})
}

// nextDecision waits for the listener to report a relay or refusal.
func (h *harness) nextDecision() Decision {
	h.t.Helper()
	select {
	case d := <-h.decided:
		return d
	case <-time.After(20 * time.Second):
		h.t.Fatal("the listener reported no relay or refusal")
		return Decision{}
	}
}

func (h *harness) stop() {
	if h.cancel != nil {
		h.cancel()
		<-h.served
		h.cancel = nil
	}
}

func (h *harness) serveAPI(ctx context.Context, conn net.Conn, o *caller.Origin) {
	defer conn.Close()
	if got, ok := caller.FromContext(ctx); !ok || got != o {
		h.t.Errorf("context does not carry the origin")
	}
	h.origins <- o
	if h.lenient {
		return
	}
	tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{h.cert.cert}})
	_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(tc).ReadString('\n')
	if err != nil {
		h.t.Errorf("API handler reading request: %v", err)
		return
	}
	_, _ = io.WriteString(tc, "api:"+line)
}

// helperProc is the test binary running as a client in the harness cgroup.
type helperProc struct {
	cmd   *exec.Cmd
	out   bytes.Buffer
	stdin io.WriteCloser
}

// runHelper runs a client inside the harness cgroup and returns its result.
func (h *harness) runHelper(env ...string) helperResult {
	h.t.Helper()
	return h.startHelper(env...).wait(h.t)
}

// startHelper starts a client inside the harness cgroup (with HELPER_WAIT=1
// it dials only after go() is called).
func (h *harness) startHelper(env ...string) *helperProc {
	h.t.Helper()
	return h.startHelperIn(h.cgroup, nil, env...)
}

// startHelperIn starts the client in cgroup under a wrapper command (such
// as unshare), which must exec the arguments it is given.
func (h *harness) startHelperIn(cgroup string, wrap []string, env ...string) *helperProc {
	h.t.Helper()
	argv := append(append([]string{}, wrap...), os.Args[0], "-test.run=^$")
	p := &helperProc{cmd: exec.Command(argv[0], argv[1:]...)}
	p.cmd.Env = append(os.Environ(), append([]string{"AIRLOCK_INTERCEPT_HELPER=1", "HELPER_CA=" + h.cert.caFile}, env...)...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, os.Stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		h.t.Fatal(err)
	}
	testutil.StartInCgroup(h.t, p.cmd, cgroup)
	return p
}

func (p *helperProc) pid() int { return p.cmd.Process.Pid }

func (p *helperProc) goAhead() { _, _ = io.WriteString(p.stdin, "go\n") }

func (p *helperProc) wait(t *testing.T) helperResult {
	t.Helper()
	p.goAhead()
	hang := time.AfterFunc(60*time.Second, func() { _ = p.cmd.Process.Kill() }) // hang guard only
	defer hang.Stop()
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	var res helperResult
	if err := json.Unmarshal(p.out.Bytes(), &res); err != nil {
		t.Fatalf("helper output %q: %v", p.out.String(), err)
	}
	return res
}

// nextOrigin waits for the API handler to see a connection.
func (h *harness) nextOrigin() *caller.Origin {
	h.t.Helper()
	select {
	case o := <-h.origins:
		return o
	case <-time.After(20 * time.Second):
		h.t.Fatal("no connection reached the API handler")
		return nil
	}
}

// originServer is a plain TCP server that greets with "origin" and counts
// the connections it accepted.
type originServer struct {
	addr     netip.AddrPort
	accepted atomic.Int64
}

func newOriginServer(t *testing.T, addr string) *originServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("origin listen %s: %v", addr, err)
	}
	s := &originServer{addr: ln.Addr().(*net.TCPAddr).AddrPort()}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			_, _ = io.WriteString(c, "origin")
			c.Close()
		}
	}()
	return s
}

// dialPlain dials from this (uncaptured) process and reads the greeting.
func dialPlain(addr netip.AddrPort) (string, error) {
	c, err := net.DialTimeout("tcp", addr.String(), 10*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	return string(b), err
}

func listenTCP(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
