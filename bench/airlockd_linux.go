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

const airlockdConf = `# written by the Airlock benchmark
state_dir: %[1]s/state
runtime_dir: %[1]s/run
log: {level: warn, format: json}
capture:
  cgroup: %[2]s
  pin_dir: %[3]s
  listen_v4: "%[4]s"
  listen_v6: ""
  targets: [%[5]s]
  hosts: []
  api_hosts: [api.anthropic.com]
upstream:
  override: "%[6]s"
  extra_ca_file: %[7]s
credentials:
  - {name: default, kind: api_key, file: %[1]s/managed.key}
policy: {file: %[1]s/policy.yaml}
`

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
	p, err := StartProc(env.Dir, "airlockd", nil, bin, "--config", conf)
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
	if err := os.MkdirAll(filepath.Join(a.Dir, "run"), 0o700); err != nil {
		return err
	}
	listen, err := FreePort()
	if err != nil {
		return err
	}
	a.CAFile = filepath.Join(a.Dir, "state", "ca", "ca.crt")
	files := map[string]string{
		"managed.key":  env.ManagedKey + "\n",
		"policy.yaml":  BenchPolicy,
		"airlock.yaml": fmt.Sprintf(airlockdConf, a.Dir, a.Cgroup, a.PinDir, listen, targetNet, env.Upstream, env.UpstreamCA),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(a.Dir, name), []byte(text), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// waitCA waits for the daemon to have written its CA (it then starts capture).
func (a *Airlockd) waitCA(ctx context.Context) error {
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; {
		if a.Proc.Exited() {
			return fmt.Errorf("airlockd exited: %s", a.Proc.Tail())
		}
		if _, err := os.Stat(a.CAFile); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("airlockd wrote no CA at %s: %s", a.CAFile, a.Proc.Tail())
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
