package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"

	"github.com/airlock-dev/airlock/intercept"
)

// kernel checks what capture needs from the kernel. The program-type probes
// load tiny programs (cilium/ebpf's features), so they need privileges.
func (d *doctorEnv) kernel(context.Context) []check {
	return []check{bpfSyscall(), cgroup2(), bpffs(), progType("cgroup sock_addr hooks (CGROUP_BPF)", ebpf.CGroupSockAddr),
		progType("sockops hook", ebpf.SockOps), getpeernameHooks()}
}

func bpfSyscall() check {
	c := check{Name: "bpf syscall"}
	// BPF_MAP_CREATE with an empty attribute: EINVAL proves the syscall exists.
	_, _, errno := unix.Syscall(unix.SYS_BPF, 0, 0, 0)
	switch errno {
	case unix.ENOSYS:
		c.Result, c.Detail, c.Fix = checkFail, "the kernel has no bpf syscall", "use a kernel built with CONFIG_BPF_SYSCALL=y"
	case unix.EPERM:
		c.Result, c.Detail, c.Fix = checkFail, "bpf() is not permitted for this process", "run as root; check kernel.unprivileged_bpf_disabled and seccomp/LSM policy"
	default:
		c.Result, c.Detail = checkOK, "available"
	}
	return c
}

func cgroup2() check {
	mnt, err := intercept.Cgroup2Mount()
	if err != nil {
		return setupFailure("cgroup2 mount", err)
	}
	return check{Name: "cgroup2 mount", Result: checkOK, Detail: mnt}
}

func bpffs() check {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/bpf", &st); err != nil || st.Type != unix.BPF_FS_MAGIC {
		return check{Name: "bpffs", Result: checkWarn, Detail: "no bpf filesystem on /sys/fs/bpf",
			Fix: "airlockd mounts one at start; to do it now: mount -t bpf bpf /sys/fs/bpf"}
	}
	return check{Name: "bpffs", Result: checkOK, Detail: "/sys/fs/bpf"}
}

func progType(name string, pt ebpf.ProgramType) check {
	err := features.HaveProgramType(pt)
	switch {
	case err == nil:
		return check{Name: name, Result: checkOK, Detail: "supported"}
	case errors.Is(err, ebpf.ErrNotSupported):
		return check{Name: name, Result: checkFail, Detail: err.Error(),
			Fix: "use a kernel built with CONFIG_CGROUP_BPF=y (every distribution kernel since 4.10 has it)"}
	case errors.Is(err, unix.EPERM):
		return check{Name: name, Result: checkFail, Detail: "cannot load eBPF programs: permission denied", Fix: "run 'sudo airlock doctor'"}
	}
	return check{Name: name, Result: checkWarn, Detail: err.Error(), Fix: "run 'sudo airlock doctor'"}
}

// getpeernameHooks: cgroup/getpeername4|6 arrived in Linux 5.8.
func getpeernameHooks() check {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return check{Name: "getpeername hooks", Result: checkWarn, Detail: err.Error()}
	}
	release := unix.ByteSliceToString(u.Release[:])
	major, minor := kernelVersion(release)
	if major > 5 || major == 5 && minor >= 8 {
		return check{Name: "getpeername hooks", Result: checkOK, Detail: "kernel " + release}
	}
	return check{Name: "getpeername hooks", Result: checkFail, Detail: "kernel " + release + " predates cgroup/getpeername (5.8)",
		Fix: "upgrade to Linux 5.8 or later"}
}

func kernelVersion(release string) (int, int) {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return 0, 0
	}
	major, _ := strconv.Atoi(parts[0])
	minor, _ := strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	return major, minor
}

// setupFailure reports intercept's typed setup errors with their own fix.
func setupFailure(name string, err error) check {
	var se *intercept.SetupError
	if errors.As(err, &se) {
		return check{Name: name, Result: checkFail, Detail: se.What, Fix: se.Fix}
	}
	return check{Name: name, Result: checkFail, Detail: fmt.Sprint(err)}
}
