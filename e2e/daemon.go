package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/admin"
	"github.com/airlock-dev/airlock/internal/poll"
)

// process is a running airlockd.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // set when exited is closed
	notify *net.UnixConn
	mu     sync.Mutex
	notes  []string // sd_notify lines received
}

// daemonCmd is airlockd with this harness's config and environment.
func (h *Harness) daemonCmd(ctx context.Context, args ...string) *exec.Cmd {
	args = append([]string{"--config", h.ConfigFile, "--conf-dir", filepath.Join(h.Dir, "conf.d")}, args...)
	args = append(append(append([]string(nil), h.opts.Wrapper...), bins.Airlockd), args...)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(cleanEnv(), h.opts.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// StartDaemon starts airlockd and waits for sd_notify READY=1 on a socket the
// harness listens on, as systemd would. Every notification is kept (Notified).
func (h *Harness) StartDaemon(t testing.TB) error {
	t.Helper()
	notify, err := listenNotify(filepath.Join(h.RuntimeDir, "notify.sock"))
	if err != nil {
		return err
	}
	cmd := h.daemonCmd(context.Background())
	cmd.Env = append(cmd.Env, "NOTIFY_SOCKET="+notify.LocalAddr().String())
	cmd.Stdout, cmd.Stderr = h.log, h.log
	if err := cmd.Start(); err != nil {
		notify.Close()
		return err
	}
	p := &process{cmd: cmd, exited: make(chan struct{}), notify: notify}
	go func() { p.err = cmd.Wait(); notify.Close(); close(p.exited) }()
	go p.collect()
	h.daemon = p
	if err := h.waitReady(p); err != nil {
		return err
	}
	return h.readListeners(t)
}

func listenNotify(path string) (*net.UnixConn, error) {
	os.Remove(path)
	return net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
}

// collect keeps every sd_notify message until the socket closes.
func (p *process) collect() {
	buf := make([]byte, 4096)
	for {
		n, err := p.notify.Read(buf)
		if err != nil {
			return
		}
		p.mu.Lock()
		p.notes = append(p.notes, strings.Split(strings.TrimSpace(string(buf[:n])), "\n")...)
		p.mu.Unlock()
	}
}

// Notified reports whether airlockd sent the sd_notify line (e.g. "WATCHDOG=1").
func (h *Harness) Notified(line string) bool {
	p := h.daemon
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Contains(p.notes, line)
}

func (h *Harness) waitReady(p *process) error {
	deadline := time.After(h.opts.Timeout)
	for !h.Notified("READY=1") {
		select {
		case <-p.exited:
			return fmt.Errorf("airlockd exited before READY: %v", p.err)
		case <-deadline:
			return fmt.Errorf("airlockd not READY after %v", h.opts.Timeout)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// readListeners learns the listener's bound addresses from `airlock status`.
func (h *Harness) readListeners(t testing.TB) error {
	var st admin.Status
	res := h.Airlock(t, "status", "--json")
	if err := json.Unmarshal([]byte(res.Stdout), &st); err != nil || len(st.Capture.Listener) == 0 {
		return fmt.Errorf("airlock status --json: exit %d, %v\n%s%s", res.Code, err, res.Stdout, res.Stderr)
	}
	h.ListenV4 = st.Capture.Listener[0]
	if len(st.Capture.Listener) > 1 {
		h.ListenV6 = st.Capture.Listener[1]
	}
	return nil
}

// Stop sends SIGTERM and waits for airlockd to exit (killing it after the
// hang guard). It returns the exit error, nil for a clean exit.
func (h *Harness) Stop(t testing.TB) error {
	t.Helper()
	p := h.daemon
	if p == nil {
		return nil
	}
	h.daemon = nil
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(h.opts.Timeout):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
		t.Errorf("airlockd did not stop within %v after SIGTERM\n%s", h.opts.Timeout, h.Log())
	}
	return p.err
}

// Signal sends sig to the running airlockd (SIGHUP to reload).
func (h *Harness) Signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if h.daemon == nil {
		t.Fatal("airlockd is not running")
	}
	if err := h.daemon.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// Reload sends SIGHUP and waits until airlockd logs that the reload is
// complete (configuration, policy, credentials).
func (h *Harness) Reload(t testing.TB) {
	t.Helper()
	n := strings.Count(h.Log(), "reload complete")
	h.Signal(t, syscall.SIGHUP)
	if poll.Until(context.Background(), h.opts.Timeout, func() (bool, error) {
		return strings.Count(h.Log(), "reload complete") > n, nil
	}) != nil {
		t.Fatalf("no reload within %v\n%s", h.opts.Timeout, h.Log())
	}
}

// Kill ends airlockd with SIGKILL, as a crash would.
func (h *Harness) Kill(t testing.TB) {
	t.Helper()
	p := h.daemon
	h.daemon = nil
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// RunDaemon runs airlockd to completion with extra args (e.g. --check, or a
// start expected to fail) and returns its exit code and output.
func (h *Harness) RunDaemon(t testing.TB, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), h.opts.Timeout)
	defer cancel()
	out, err := h.daemonCmd(ctx, args...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	default:
		t.Fatalf("running airlockd: %v", err)
		return -1, ""
	}
}

// cleanEnv is the environment for subprocesses: the test's, without proxies
// and CA overrides that would send clients elsewhere or trust something else.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !droppedEnv(strings.ToUpper(name)) {
			env = append(env, kv)
		}
	}
	return env
}

func droppedEnv(name string) bool {
	if strings.HasSuffix(name, "_PROXY") || strings.HasPrefix(name, "ANTHROPIC_") || name == "NOTIFY_SOCKET" {
		return true
	}
	for _, s := range []string{"CA_CERTS", "CA_BUNDLE", "CERT_FILE", "CERT_DIR", "CAINFO", "SSL_ROOTS"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return strings.HasPrefix(name, "AIRLOCK_") && name != "AIRLOCK_REQUIRE_PRIVILEGED"
}
