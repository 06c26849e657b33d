package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/airlock-dev/airlock/internal/poll"
)

// Proc is a child process of the benchmark (a peer, the fake API, airlockd).
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	Log  string // its combined output
	done chan struct{}
}

// DeployedEnv is the Go runtime's tuning that deploy/airlockd.service gives
// the daemon: Airlock's processes are measured as they are deployed
// (TestBenchRunsTheDeployedGoSettings keeps the two the same).
var DeployedEnv = []string{"GOGC=200", "GOMEMLIMIT=1GiB"}

// StartProc starts argv with output to dir/<name>.log.
func StartProc(dir, name string, env []string, argv ...string) (*Proc, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Proc{Name: name, Cmd: cmd, Log: logPath, done: make(chan struct{})}
	go func() { cmd.Wait(); f.Close(); close(p.done) }()
	return p, nil
}

// PID is the process id.
func (p *Proc) PID() int { return p.Cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to the process group, then SIGKILL after grace.
func (p *Proc) Stop(grace time.Duration) {
	syscall.Kill(-p.PID(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		syscall.Kill(-p.PID(), syscall.SIGKILL)
		<-p.done
	}
}

// Tail is the end of the process's log, for error messages.
func (p *Proc) Tail() string {
	b, _ := os.ReadFile(p.Log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// FreePort returns a loopback address that was free a moment ago.
func FreePort() (string, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// WaitReady sends small requests to t until one succeeds or limit passes.
func WaitReady(ctx context.Context, t Target, p *Proc, limit time.Duration) error {
	tr := t.transport(false, 1)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	var last error
	err := poll.Until(ctx, limit, func() (bool, error) {
		if p != nil && p.Exited() {
			return false, fmt.Errorf("%s exited: %s", p.Name, p.Tail())
		}
		_, last = Load{}.once(ctx, client, t, SmallBody)
		return last == nil, nil
	})
	if errors.Is(err, poll.ErrGaveUp) {
		return fmt.Errorf("%s not ready after %s: %v", t.Name, limit, last)
	}
	return err
}

// version runs argv and returns the first line it prints (stdout or stderr).
func version(argv ...string) string {
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if err != nil && line == "" {
		return "unavailable (" + err.Error() + ")"
	}
	return line
}
