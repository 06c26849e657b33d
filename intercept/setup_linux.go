//go:build linux

package intercept

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// cgroup2Candidates are where cgroup v2 is mounted on unified and hybrid hosts.
var cgroup2Candidates = []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}

// Cgroup2Mount finds the cgroup v2 mount point.
func Cgroup2Mount() (string, error) {
	for _, p := range cgroup2Candidates {
		var st unix.Statfs_t
		if unix.Statfs(p, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return p, nil
		}
	}
	return "", &SetupError{What: "no cgroup v2 mount found at /sys/fs/cgroup or /sys/fs/cgroup/unified",
		Fix: "mount -t cgroup2 none /sys/fs/cgroup/unified (or boot with systemd.unified_cgroup_hierarchy=1)",
		Err: os.ErrNotExist}
}

func resolveCgroup(path string) (string, error) {
	if path == "" {
		return Cgroup2Mount()
	}
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
		return "", &SetupError{What: fmt.Sprintf("cgroup path %s is not a cgroup v2 directory", path),
			Fix: "set cgroup_path to a directory under the cgroup2 mount, or leave it empty", Err: os.ErrInvalid}
	}
	return path, nil
}

// preparePinDir makes sure a bpf filesystem is mounted above dir (mounting
// one on /sys/fs/bpf when the host has none) and creates dir.
func preparePinDir(dir string) error {
	parent := filepath.Dir(dir)
	if !isBPFFS(parent) && parent == "/sys/fs/bpf" {
		_ = unix.Mount("bpf", parent, "bpf", 0, "mode=0700")
	}
	if !isBPFFS(parent) {
		return &SetupError{What: fmt.Sprintf("%s is not on a bpf filesystem", parent),
			Fix: "mount -t bpf bpf /sys/fs/bpf", Err: os.ErrNotExist}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return privilegeError("creating pin directory "+dir, err)
	}
	return nil
}

func isBPFFS(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.BPF_FS_MAGIC
}

// ownCgroupID is the cgroup v2 id (the directory's inode) of this process,
// or 0 (no cgroup guard, the tgid guard remains) in the root cgroup.
func ownCgroupID() (uint64, error) {
	rel, err := ownCgroup2Path()
	if err != nil {
		return 0, err
	}
	if rel == "/" {
		// Excluding the root cgroup would exempt every process left in it.
		return 0, nil
	}
	mount, err := Cgroup2Mount()
	if err != nil {
		return 0, err
	}
	return CgroupID(filepath.Join(mount, rel))
}

// CgroupID returns the id BPF's bpf_get_current_cgroup_id reports for dir.
func CgroupID(dir string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return 0, fmt.Errorf("stat cgroup %s: %w", dir, err)
	}
	return st.Ino, nil
}

// ownCgroup2Path reads this process's cgroup v2 path ("0::/x") from /proc.
func ownCgroup2Path() (string, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return "", fmt.Errorf("reading own cgroup: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
			return rest, nil
		}
	}
	return "", errors.New("reading own cgroup: no cgroup v2 entry in /proc/self/cgroup")
}

func privilegeError(what string, err error) error {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return &SetupError{What: what + ": permission denied", Err: err,
			Fix: "run airlockd as root (or with CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_SYS_PTRACE and CAP_SYS_ADMIN, as deploy/airlockd.service grants)"}
	}
	return fmt.Errorf("%s: %w", what, err)
}

func loadError(err error) error {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return privilegeError("loading eBPF programs", err)
	}
	return &SetupError{What: "the kernel rejected the eBPF programs", Err: err,
		Fix: "use a kernel >= 5.8 with CONFIG_BPF_SYSCALL, CONFIG_CGROUP_BPF and CONFIG_DEBUG_INFO_BTF (see `airlock doctor`)"}
}

func attachError(name, cgroup string, err error) error {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return privilegeError("attaching "+name+" to "+cgroup, err)
	}
	return &SetupError{What: fmt.Sprintf("attaching %s to %s failed", name, cgroup), Err: err,
		Fix: "check CONFIG_CGROUP_BPF and that the kernel supports this hook (see `airlock doctor`)"}
}
