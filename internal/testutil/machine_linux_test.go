//go:build linux

package testutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A machine boots with systemd as PID 1 in a cgroup below the host's root,
// runs commands as services of its own systemd, and leaves nothing behind.
func TestMachineBootsRunsAndLeavesNothing(t *testing.T) {
	var m *Machine
	t.Run("boot", func(t *testing.T) {
		m = BootMachine(t, MachineOptions{Rootfs: DebianRootfs(t, "machine", MachinePackages)})
		if m.Cgroup() == cgroup2Mount() || !strings.HasPrefix(m.Cgroup(), cgroup2Mount()+"/") {
			t.Fatalf("machine cgroup %s is not a child of the host's root %s", m.Cgroup(), cgroup2Mount())
		}
		if comm, _ := os.ReadFile(filepathJoinProc(m.Leader(), "comm")); strings.TrimSpace(string(comm)) != "systemd" {
			t.Errorf("PID 1 is %q, want systemd", comm)
		}
		out := m.Run(t, "cat /proc/self/cgroup; mountpoint /sys/fs/bpf; stat -fc %T /sys/fs/bpf; ip -o link")
		if !strings.Contains(out, "0::/system.slice/run-") {
			t.Errorf("command did not run as a transient service of the machine:\n%s", out)
		}
		if !strings.Contains(out, "bpf_fs") || strings.Contains(out, "eth") || strings.Contains(out, "host0") {
			t.Errorf("want a bpffs and only loopback:\n%s", out)
		}
		if _, err := m.RunErr("exit 3"); err == nil {
			t.Error("a failing command reported success")
		}
	})
	if m == nil || m.dir == "" {
		return
	}
	for _, p := range []string{m.dir, filepath.Join(cgroup2Mount(), m.hostCG), filepath.Join("/sys/fs/cgroup/systemd", m.hostCG)} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("left behind: %s (%v)", p, err)
		}
	}
	if left, _ := MountsUnder(m.dir); len(left) > 0 {
		t.Errorf("mounts left: %v", left)
	}
}

func filepathJoinProc(pid int, name string) string {
	return filepath.Join("/proc", itoa(pid), name)
}
