//go:build linux

package intercept

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/user"
	"path"
	"strconv"
	"strings"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/containers"
)

// ProcessOf completes a kernel record from /proc at accept time. It is
// best effort: a process that already exited keeps the kernel's fields.
// /proc is only believed when it still shows the process and executable
// that called connect(); otherwise the process is marked ExeChanged.
func ProcessOf(r Record) caller.Process {
	id := r.Identity
	p := caller.Process{PID: int(r.TGID), UID: r.UID, GID: r.GID, Comm: r.Comm, CgroupID: r.CgroupID,
		ExeName: id.ExeName, ExeIno: id.ExeIno, Netns: r.NetnsCookie}
	if id.ExeIno != 0 {
		p.ExeDev = fmt.Sprintf("%d:%d", id.ExeMajor, id.ExeMinor)
	}
	if u, err := user.LookupId(strconv.Itoa(int(r.UID))); err == nil {
		p.User = u.Username
	}
	dir := fmt.Sprintf("/proc/%d", r.TGID)
	started, err := startTicks(dir)
	if err != nil {
		return p // gone: only the kernel's fields are known
	}
	if id.StartBoottime != 0 && started != id.StartBoottime/nsPerTick {
		p.ExeChanged = true // another process now has this pid
		return p
	}
	readProc(dir, &p)
	if id.ExeIno != 0 && p.Exe != "" && !runsExe(dir, p.Exe, id) {
		p.ExeChanged = true // what /proc claims is not what connected
	}
	return p
}

// readProc fills in what only /proc knows: path, command line, working
// directory, cgroup path.
func readProc(dir string, p *caller.Process) {
	p.Exe, _ = os.Readlink(dir + "/exe")
	p.Cwd, _ = os.Readlink(dir + "/cwd")
	if b, err := os.ReadFile(dir + "/cmdline"); err == nil && len(b) > 0 {
		p.Cmdline = strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00")
	}
	if b, err := os.ReadFile(dir + "/cgroup"); err == nil {
		p.Cgroup = cgroup2Of(string(b))
	}
	p.Unit = unitOf(p.Cgroup)
	id := containers.FromCgroup(p.Cgroup)
	p.Container, p.PodUID = id.ID, id.PodUID
}

// nsPerTick converts the kernel's start_boottime to /proc/<pid>/stat's
// starttime, which is in USER_HZ (100 on Linux, whatever CONFIG_HZ is).
const nsPerTick = 1e9 / 100

// startTicks is field 22 of /proc/<pid>/stat: the start time in ticks.
func startTicks(dir string) (uint64, error) {
	b, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return 0, err
	}
	// comm (field 2) may hold spaces and parentheses: count from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	fields := strings.Fields(string(b[i+1:]))
	if i < 0 || len(fields) < 20 {
		return 0, fmt.Errorf("parsing %s/stat: too few fields", dir)
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

// runsExe reports whether the process maps exe from the recorded inode and
// device. /proc/<pid>/maps prints the kernel's own i_ino and s_dev, as the
// BPF program read them; stat(2) of /proc/<pid>/exe would not on btrfs
// (per-subvolume devices) or overlayfs (the lower file's numbers).
func runsExe(dir, exe string, id Identity) bool {
	f, err := os.Open(dir + "/maps")
	if err != nil || exe == "" {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<16)
	for sc.Scan() {
		// start-end perms offset major:minor inode   path
		parts := strings.SplitN(sc.Text(), " ", 6)
		if len(parts) < 6 || strings.TrimLeft(parts[5], " ") != exe {
			continue
		}
		var major, minor uint32
		ino, err := strconv.ParseUint(parts[4], 10, 64)
		if _, serr := fmt.Sscanf(parts[3], "%x:%x", &major, &minor); serr != nil || err != nil {
			return false
		}
		return ino == id.ExeIno && major == id.ExeMajor && minor == id.ExeMinor
	}
	return false
}

func cgroup2Of(procCgroup string) string {
	for line := range strings.SplitSeq(procCgroup, "\n") {
		if rest, ok := strings.CutPrefix(line, "0::"); ok {
			return rest
		}
	}
	return ""
}

// unitOf is the innermost systemd service or scope in a cgroup path.
func unitOf(cg string) string {
	for dir := cg; dir != "/" && dir != "." && dir != ""; dir = path.Dir(dir) {
		base := path.Base(dir)
		if strings.HasSuffix(base, ".service") || strings.HasSuffix(base, ".scope") {
			return base
		}
	}
	return ""
}
