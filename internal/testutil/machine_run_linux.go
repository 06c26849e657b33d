//go:build linux

package testutil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/airlock-dev/airlock/internal/poll"
)

// machineCommandTimeout bounds one command run in a machine.
const machineCommandTimeout = 3 * time.Minute

// Run runs script (sh -c) in the machine as a transient service of its
// systemd (systemd-run --wait --pipe), so it runs where a service or an
// operator's command would: inside the machine's cgroup tree, with the
// machine's mounts, network and PID namespace. It returns stdout and
// stderr together and fails tb on a non-zero exit.
func (m *Machine) Run(tb testing.TB, script string) string {
	tb.Helper()
	out, err := m.RunErr(script)
	if err != nil {
		tb.Fatalf("in machine %s: %s\n%v\n%s", m.Name, script, err, out)
	}
	return out
}

// RunErr is Run that returns the error (a non-zero exit) instead of failing.
func (m *Machine) RunErr(script string, props ...string) (string, error) {
	argv := []string{"systemd-run", "--wait", "--pipe", "--quiet", "--collect", "--service-type=exec"}
	for _, p := range props {
		argv = append(argv, "--property="+p)
	}
	return m.Exec(append(argv, "--", "/bin/sh", "-c", script)...)
}

// Exec runs argv directly in the machine's namespaces (nsenter into its
// PID 1), outside its cgroup tree: for what must work while its systemd is
// going down (reboot, poweroff) or not there yet.
func (m *Machine) Exec(argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), machineCommandTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "nsenter", m.nsenterArgs(argv...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// Reboot runs `systemctl reboot` in the machine and boots it again on the
// same root, as systemd-nspawn@.service does (nspawn exits 133 on reboot).
func (m *Machine) Reboot(tb testing.TB) {
	tb.Helper()
	if out, err := m.Exec("systemctl", "reboot"); err != nil {
		tb.Fatalf("systemctl reboot: %v: %s", err, out)
	}
	err := m.waitExit(60 * time.Second)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 133 {
		tb.Fatalf("systemd-nspawn did not exit for a reboot (status 133): %v\n%s", err, m.Console())
	}
	if err := m.endBoot(); err != nil {
		tb.Fatalf("after reboot: %v", err)
	}
	if err := m.boot(); err != nil {
		tb.Fatalf("booting again: %v\nconsole:\n%s", err, m.Console())
	}
}

// waitExit waits for nspawn to exit and returns how it exited.
func (m *Machine) waitExit(timeout time.Duration) error {
	select {
	case err := <-m.done:
		m.done <- err
		return err
	case <-time.After(timeout):
		return fmt.Errorf("systemd-nspawn still running after %s", timeout)
	}
}

// endBoot removes what one boot left on the host once nspawn has exited:
// the bpf filesystem instance (and with it every pin and pinned link) and
// the machine's cgroups.
func (m *Machine) endBoot() error {
	err := UnmountUnder(filepath.Join(m.dir, "bpf"))
	for _, sub := range []string{"payload", "supervisor"} {
		err = errors.Join(err, removeCgroupEverywhere(filepath.Join(m.hostCG, sub)))
	}
	m.nspawn, m.leader = nil, 0
	return err
}

// teardown powers the machine off (killing it if it does not stop) and
// removes everything it left: cgroups in every hierarchy, mounts, files.
func (m *Machine) teardown() error {
	err := m.stop()
	if m.nspawn != nil || m.dir != "" {
		err = errors.Join(err, m.endBoot())
	}
	if m.hostCG != "" {
		err = errors.Join(err, removeCgroupEverywhere(m.hostCG))
	}
	for _, d := range []string{"propagate", "unix-export"} {
		_ = os.Remove(filepath.Join("/run/systemd/nspawn", d, m.Name))
	}
	if m.dir != "" {
		err = errors.Join(err, RemoveTree(m.dir))
	}
	return err
}

// stop powers the machine off, and kills everything in its cgroup if it
// has not stopped within 30 seconds.
func (m *Machine) stop() error {
	if m.nspawn == nil || m.exited() {
		return nil
	}
	// SIGRTMIN+4 (glibc's SIGRTMIN is 34) asks systemd for a clean poweroff.
	_ = unix.Kill(m.leader, syscall.Signal(34+4))
	if m.waitExit(30*time.Second) == nil || m.exited() {
		return nil
	}
	_ = os.WriteFile(filepath.Join(cgroup2Mount(), m.hostCG, "cgroup.kill"), []byte("1"), 0)
	if _ = m.waitExit(10 * time.Second); !m.exited() {
		return fmt.Errorf("systemd-nspawn (pid %d) survived a kill", m.nspawn.Process.Pid)
	}
	return nil
}

// removeCgroupEverywhere removes rel and everything below it in the
// cgroup2 tree and in each v1 hierarchy (nspawn mirrors its cgroups into
// the name=systemd hierarchy on hybrid hosts), deepest first.
func removeCgroupEverywhere(rel string) error {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	roots = append(roots, cgroup2Mount())
	var errs []error
	for _, root := range slices.Compact(roots) {
		errs = append(errs, removeCgroupTree(filepath.Join(root, rel)))
	}
	return errors.Join(errs...)
}

func removeCgroupTree(top string) error {
	var dirs []string
	_ = filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	slices.Reverse(dirs) // WalkDir is lexical: children after parents
	for _, d := range dirs {
		var err error
		if poll.Until(context.Background(), 2*time.Second, func() (bool, error) {
			err = os.Remove(d)
			return err == nil || errors.Is(err, fs.ErrNotExist), nil
		}) != nil {
			return fmt.Errorf("removing cgroup %s: %w", d, err)
		}
	}
	return nil
}

// cgroup2Mount is the cgroup2 mount point, without a testing.TB.
func cgroup2Mount() string {
	for _, p := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		var st unix.Statfs_t
		if unix.Statfs(p, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return p
		}
	}
	return "/sys/fs/cgroup"
}

func cgroupAttr(fd int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
}
