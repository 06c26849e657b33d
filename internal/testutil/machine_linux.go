//go:build linux

package testutil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/airlock-dev/airlock/internal/poll"
)

// Machine is a Debian system booted with systemd as its PID 1 under
// systemd-nspawn: a real systemd for tests of units, restarts, watchdogs,
// reboots and installs, on hosts whose own PID 1 is not systemd.
//
// Its root is an overlay on a cached DebianRootfs (the cache is never
// written), it has a private network namespace (its own loopback and
// nothing else: no traffic leaves it), a private bpf filesystem at
// /sys/fs/bpf (a fresh instance per boot, as after a real reboot) and its
// own cgroup2 tree, which is a child cgroup of the host's (see Cgroup).
// Everything is removed when the test ends.
type Machine struct {
	Name   string // host name and nspawn machine name
	Root   string // the machine's / as the host sees it (the overlay)
	opts   MachineOptions
	dir    string // overlay layers, bpffs mount point, console logs
	hostCG string // the cgroup nspawn runs in (relative to the cgroup2 mount)
	nspawn *exec.Cmd
	done   chan error // nspawn's exit
	leader int        // the machine's PID 1, as a host pid
	boots  int
}

// MachineOptions configure BootMachine.
type MachineOptions struct {
	Rootfs string   // a DebianRootfs (lower layer; read-only)
	BindRO []string // "HOSTPATH:MACHINEPATH" bound read-only (binaries, fixtures)
	// Setup writes into the machine's root (the overlay) before the first
	// boot: test fixtures, /etc/hosts entries.
	Setup func(root string) error
}

// machineBootTimeout bounds a boot to multi-user.target (seconds here).
const machineBootTimeout = 90 * time.Second

// BootMachine boots a machine and registers its teardown with tb.
func BootMachine(tb testing.TB, opts MachineOptions) *Machine {
	tb.Helper()
	RequirePrivileged(tb, "booting a systemd-nspawn machine")
	_, err := exec.LookPath("systemd-nspawn")
	Require(tb, err == nil, "systemd-nspawn is not installed (scripts/install-deps.sh installs systemd-container)")
	m := &Machine{Name: RandomName("airlock-m-"), opts: opts}
	tb.Cleanup(func() {
		if err := m.teardown(); err != nil {
			tb.Errorf("machine %s teardown: %v", m.Name, err)
		}
	})
	if err := m.prepare(); err != nil {
		tb.Fatalf("preparing machine: %v", err)
	}
	if err := m.boot(); err != nil {
		tb.Fatalf("booting machine %s: %v\nconsole:\n%s", m.Name, err, m.Console())
	}
	return m
}

// prepare creates the overlay and the host cgroup nspawn will run in.
func (m *Machine) prepare() error {
	var err error
	if m.dir, err = os.MkdirTemp("", m.Name+"-"); err != nil {
		return err
	}
	m.Root = filepath.Join(m.dir, "root")
	for _, d := range []string{"upper", "work", "root", "bpf"} {
		if err := os.Mkdir(filepath.Join(m.dir, d), 0o755); err != nil {
			return err
		}
	}
	opt := fmt.Sprintf("lowerdir=%s,upperdir=%s/upper,workdir=%s/work", m.opts.Rootfs, m.dir, m.dir)
	if err := run("mount", "-t", "overlay", "overlay", "-o", opt, m.Root); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(m.Root, "etc/hostname"), []byte(m.Name+"\n"), 0o644); err != nil {
		return err
	}
	if m.opts.Setup != nil {
		if err := m.opts.Setup(m.Root); err != nil {
			return fmt.Errorf("setup: %w", err)
		}
	}
	// nspawn wants this directory (it propagates mounts through it) and
	// does not create it without machined.
	if err := os.MkdirAll("/run/systemd/nspawn/propagate", 0o755); err != nil {
		return err
	}
	m.hostCG = m.Name
	return os.Mkdir(filepath.Join(cgroup2Mount(), m.hostCG), 0o755)
}

// boot starts nspawn and waits for the machine to finish booting.
func (m *Machine) boot() error {
	m.boots++
	bpf := filepath.Join(m.dir, "bpf")
	// A fresh bpffs instance per boot: pins do not survive a reboot, as on
	// a real host, and none are ever visible in the host's /sys/fs/bpf.
	if err := run("mount", "-t", "bpf", "bpf", bpf); err != nil {
		return err
	}
	args := []string{"-b", "-D", m.Root, "-M", m.Name, "--register=no", "--keep-unit",
		"--capability=all", "--private-network", "--bind=" + bpf + ":/sys/fs/bpf",
		// nspawn's own seccomp filter refuses bpf(2) (EPERM) even with every
		// capability; a host's systemd does not, so neither may the machine.
		"--system-call-filter=bpf"}
	for _, b := range m.opts.BindRO {
		args = append(args, "--bind-ro="+b)
	}
	if err := m.startNspawn(args); err != nil {
		return err
	}
	if err := m.waitBooted(); err != nil {
		return err
	}
	return m.checkOwnCgroup()
}

// checkOwnCgroup makes sure that the machine's /sys/fs/cgroup — where a
// daemon in it attaches when told "the cgroup2 root" — is its own cgroup
// (payload, a child of the host's cgroup this fixture created), and not
// the host's root: the same directory seen from both sides.
func (m *Machine) checkOwnCgroup() error {
	var inside, own, hostRoot unix.Stat_t
	err := errors.Join(unix.Stat(fmt.Sprintf("/proc/%d/root/sys/fs/cgroup", m.leader), &inside),
		unix.Stat(m.payloadCG(), &own), unix.Stat(cgroup2Mount(), &hostRoot))
	switch {
	case err != nil:
		return fmt.Errorf("comparing the machine's cgroup2 root with its host cgroup: %w", err)
	case inside.Dev == hostRoot.Dev && inside.Ino == hostRoot.Ino:
		return errors.New("the machine's /sys/fs/cgroup is the host's cgroup2 root: refusing to run anything in it")
	case inside.Dev != own.Dev || inside.Ino != own.Ino:
		return fmt.Errorf("the machine's /sys/fs/cgroup is not its cgroup %s", m.payloadCG())
	}
	return nil
}

func (m *Machine) startNspawn(args []string) error {
	log, err := os.Create(filepath.Join(m.dir, fmt.Sprintf("console-%d.log", m.boots)))
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command("systemd-nspawn", args...)
	// Without a unified hierarchy systemd-nspawn would give the machine the
	// host's hybrid layout, and a cgroup2 tree of its own is what capture needs.
	cmd.Env = append(os.Environ(), "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1")
	cmd.Stdout, cmd.Stderr = log, log
	cgfd, err := os.Open(filepath.Join(cgroup2Mount(), m.hostCG))
	if err != nil {
		return err
	}
	defer cgfd.Close()
	cmd.SysProcAttr = cgroupAttr(int(cgfd.Fd()))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting systemd-nspawn: %w", err)
	}
	m.nspawn, m.done = cmd, make(chan error, 1)
	go func() { m.done <- cmd.Wait() }()
	return nil
}

// waitBooted finds the machine's PID 1 and waits until its boot has
// finished (multi-user.target reached: running, or degraded).
func (m *Machine) waitBooted() error {
	ctx, cancel := context.WithTimeout(context.Background(), machineBootTimeout)
	defer cancel()
	err := poll.Until(ctx, machineBootTimeout, func() (bool, error) {
		if m.exited() {
			return false, errors.New("systemd-nspawn exited during boot")
		}
		// systemd, once it runs as PID 1, moves itself to init.scope;
		// before that the payload holds nspawn's own setup process.
		m.leader = firstPID(filepath.Join(m.payloadCG(), "init.scope", "cgroup.procs"))
		return m.leader != 0, nil
	})
	if errors.Is(err, poll.ErrGaveUp) {
		return fmt.Errorf("no PID 1 in %s after %s", m.payloadCG(), machineBootTimeout)
	} else if err != nil {
		return err
	}
	return poll.Until(ctx, machineBootTimeout, func() (bool, error) {
		out, err := exec.CommandContext(ctx, "nsenter", m.nsenterArgs("systemctl", "is-system-running", "--wait")...).CombinedOutput()
		switch state := strings.TrimSpace(string(out)); {
		case state == "running" || state == "degraded":
			return true, nil
		case ctx.Err() != nil || !strings.Contains(state, "connect to bus"):
			return false, fmt.Errorf("boot ended %q (%v)", state, err)
		}
		return false, nil // systemd is not listening yet
	})
}

// payloadCG is the host path of the machine's root cgroup: nspawn (with
// --keep-unit on a cgroup2 tree) moves itself to <its cgroup>/supervisor
// and the machine to <its cgroup>/payload.
func (m *Machine) payloadCG() string {
	return filepath.Join(cgroup2Mount(), m.hostCG, "payload")
}

// Cgroup is the host's cgroup2 path of the machine's root cgroup. The
// machine runs in its own cgroup namespace, so its /sys/fs/cgroup (and a
// daemon attaching to "the cgroup2 root" in it) is this directory: a
// child of the host's root, never the host's root itself.
func (m *Machine) Cgroup() string { return m.payloadCG() }

// BPFFS is the host path of the machine's bpf filesystem (its /sys/fs/bpf):
// its pins, readable from the host for as long as this boot lasts.
func (m *Machine) BPFFS() string { return filepath.Join(m.dir, "bpf") }

// Leader is the host pid of the machine's PID 1 (systemd).
func (m *Machine) Leader() int { return m.leader }

func (m *Machine) exited() bool {
	select {
	case err := <-m.done:
		m.done <- err // keep it for the next reader
		return true
	default:
		return false
	}
}

// nsenterArgs runs argv in every namespace of the machine's PID 1.
func (m *Machine) nsenterArgs(argv ...string) []string {
	return append([]string{"-t", strconv.Itoa(m.leader), "-a", "--"}, argv...)
}

// Console returns what the machine printed during its last boot.
func (m *Machine) Console() string {
	b, _ := os.ReadFile(filepath.Join(m.dir, fmt.Sprintf("console-%d.log", m.boots)))
	return tail(b, 40)
}

func run(name string, args ...string) error {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

func firstPID(procsFile string) int {
	b, _ := os.ReadFile(procsFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	return pid
}
