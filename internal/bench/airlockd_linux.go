package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/airlock-dev/airlock/intercept"
	"github.com/airlock-dev/airlock/internal/config"
	"github.com/airlock-dev/airlock/internal/poll"
	"github.com/airlock-dev/airlock/tlsmitm"
)

// Capture addresses: the load generator dials TargetAddr with SNI
// api.anthropic.com; the eBPF programs redirect it to airlockd.
const (
	TargetAddr = "127.0.100.1:443"
	targetNet  = "127.0.100.0/24"
)

// Airlockd is the real daemon, capturing the connections of one child cgroup.
type Airlockd struct {
	Proc    *Proc
	Dir     string
	Cgroup  string // the captured cgroup v2 directory
	PinDir  string
	CAFile  string // the Airlock CA clients trust
	Command string
	home    string // the cgroup v2 directory this process came from
}

// StartAirlockd creates the captured cgroup, writes the configuration and
// starts bin, with capture, policy, masking and audit on (the defaults).
func StartAirlockd(ctx context.Context, bin string, env PeerEnv) (*Airlockd, error) {
	a := &Airlockd{Dir: filepath.Join(env.Dir, "airlockd"), PinDir: "/sys/fs/bpf/airlock-bench-" + suffix()}
	if err := a.prepare(env); err != nil {
		a.Close()
		return nil, err
	}
	conf := filepath.Join(a.Dir, "airlock.yaml")
	a.Command = bin + " --config " + conf
	p, err := StartProc(env.Dir, "airlockd", DeployedEnv, bin, "--config", conf)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Proc = p
	if err := a.waitCA(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (a *Airlockd) prepare(env PeerEnv) error {
	mount, err := intercept.Cgroup2Mount()
	if err != nil {
		return fmt.Errorf("cgroup v2: %w", err)
	}
	if a.home, err = ownCgroup(mount); err != nil {
		return err
	}
	a.Cgroup = filepath.Join(mount, "airlock-bench-"+suffix())
	if err := os.Mkdir(a.Cgroup, 0o755); err != nil {
		return fmt.Errorf("creating the captured cgroup: %w", err)
	}
	listen, err := FreePort()
	if err != nil {
		return err
	}
	c, err := DaemonConfig(a.Dir, env.Upstream, env.UpstreamCA, env.ManagedKey)
	if err != nil {
		return err
	}
	c.Log = config.Log{Level: "warn", Format: "json"}
	c.Capture.Cgroup, c.Capture.PinDir, c.Capture.ListenV4, c.Capture.ListenV6 = a.Cgroup, a.PinDir, listen, ""
	c.Capture.Targets, c.Capture.Hosts = []string{targetNet}, []string{}
	a.CAFile = tlsmitm.CACertPath(c.CADir())
	yaml, err := c.YAML()
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(a.Dir, "airlock.yaml"), append([]byte("# written by the Airlock benchmark\n"), yaml...), 0o600)
}

// waitCA waits for the daemon to have written its CA (it then starts capture).
func (a *Airlockd) waitCA(ctx context.Context) error {
	err := poll.Until(ctx, 60*time.Second, func() (bool, error) {
		if a.Proc.Exited() {
			return false, fmt.Errorf("airlockd exited: %s", a.Proc.Tail())
		}
		_, err := os.Stat(a.CAFile)
		return err == nil, nil
	})
	if errors.Is(err, poll.ErrGaveUp) {
		return fmt.Errorf("airlockd wrote no CA at %s: %s", a.CAFile, a.Proc.Tail())
	}
	return err
}

// Enter moves this process into the captured cgroup; leave moves it back.
func (a *Airlockd) Enter() (func(), error) {
	if err := joinCgroup(a.Cgroup); err != nil {
		return nil, err
	}
	return func() { joinCgroup(a.home) }, nil
}

// Close stops the daemon, removes its pins and the cgroup.
func (a *Airlockd) Close() error {
	if a.Proc != nil {
		a.Proc.Stop(15 * time.Second)
	}
	var errs []error
	if err := intercept.Uninstall(a.PinDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	if a.Cgroup != "" {
		joinCgroup(a.home)
		if err := os.Remove(a.Cgroup); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func joinCgroup(dir string) error {
	return os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0o644)
}

// ownCgroup is this process's cgroup v2 directory.
func ownCgroup(mount string) (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
			return filepath.Join(mount, path), nil
		}
	}
	return "", errors.New("no cgroup v2 entry in /proc/self/cgroup")
}

func suffix() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// procAttr puts a child in its own process group, killed if we die.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
