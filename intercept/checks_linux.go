//go:build linux

package intercept

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
)

// Check is one diagnostic of `airlock doctor`.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
	Fix    string `json:"fix,omitempty"` // set when !OK
}

// Checks probes everything capture needs on this host, read-only (it loads
// throwaway programs but attaches nothing).
func Checks(cfg Config) []Check {
	cfg = cfg.WithDefaults()
	_ = rlimit.RemoveMemlock()
	checks := []Check{checkPrivileges(), checkBPFSyscall(), checkKernelBTF(), checkCgroup2(cfg), checkCgroupBPF(cfg)}
	for _, h := range hooks {
		checks = append(checks, checkHook(h))
	}
	return append(checks, checkBPFFS(cfg))
}

func result(name string, err error, fix string) Check {
	if err != nil {
		return Check{Name: name, Detail: err.Error(), Fix: fix}
	}
	return Check{Name: name, OK: true}
}

func checkPrivileges() Check {
	var err error
	if os.Geteuid() != 0 {
		err = fmt.Errorf("running as uid %d", os.Geteuid())
	}
	return result("privileges", err, "run as root (or grant CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_SYS_PTRACE, CAP_SYS_ADMIN)")
}

func checkBPFSyscall() Check {
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err == nil {
		m.Close()
	}
	return result("bpf syscall", err, "use a kernel built with CONFIG_BPF_SYSCALL=y, and run as root")
}

// checkKernelBTF: connect4/6 read the caller's executable through CO-RE,
// which needs the running kernel's BTF to relocate field offsets.
func checkKernelBTF() Check {
	_, err := btf.LoadKernelSpec()
	return result("kernel BTF", err, "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (/sys/kernel/btf/vmlinux)")
}

func checkCgroup2(cfg Config) Check {
	_, err := resolveCgroup(cfg.CgroupPath)
	return result("cgroup2 mount", err, "mount -t cgroup2 none /sys/fs/cgroup/unified")
}

// checkCgroupBPF queries the cgroup's programs: without CONFIG_CGROUP_BPF
// the kernel rejects the query.
func checkCgroupBPF(cfg Config) Check {
	path, err := resolveCgroup(cfg.CgroupPath)
	if err == nil {
		err = queryCgroup(path)
	}
	return result("CONFIG_CGROUP_BPF", err, "use a kernel built with CONFIG_CGROUP_BPF=y")
}

func queryCgroup(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = link.QueryPrograms(link.QueryOptions{Target: int(f.Fd()), Attach: ebpf.AttachCGroupInet4Connect})
	return err
}

// checkHook loads a trivial program with the hook's expected attach type.
func checkHook(h hook) Check {
	typ := ebpf.CGroupSockAddr
	switch h.attach {
	case ebpf.AttachCGroupSockOps:
		typ = ebpf.SockOps
	case ebpf.AttachCGroupInetEgress:
		typ = ebpf.CGroupSKB
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: typ, AttachType: h.attach, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.Return()}})
	if err == nil {
		prog.Close()
	}
	if errors.Is(err, syscall.EPERM) {
		return result("hook "+h.name[len("link_"):], err, "run as root")
	}
	return result("hook "+h.name[len("link_"):], err, "use a kernel >= 5.8 (getpeername hooks) with CONFIG_CGROUP_BPF=y")
}

func checkBPFFS(cfg Config) Check {
	var err error
	if parent := filepath.Dir(cfg.PinDir); !isBPFFS(parent) {
		err = fmt.Errorf("%s is not a bpf filesystem", parent)
	}
	return result("bpffs mounted", err, "mount -t bpf bpf /sys/fs/bpf (airlockd mounts it when it can)")
}
