//go:build linux

package intercept

import (
	"bytes"
	"fmt"
	"os"
	"os/user"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/airlock-dev/airlock/caller"
)

// ProcessOf completes a kernel record from /proc at accept time. It is
// best effort: a process that already exited keeps the kernel's fields.
func ProcessOf(r Record) caller.Process {
	p := caller.Process{PID: int(r.TGID), UID: r.UID, GID: r.GID, Comm: r.Comm, CgroupID: r.CgroupID}
	dir := fmt.Sprintf("/proc/%d", r.TGID)
	p.Exe, _ = os.Readlink(dir + "/exe")
	if b, err := os.ReadFile(dir + "/cmdline"); err == nil && len(b) > 0 {
		p.Cmdline = strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00")
	}
	if b, err := os.ReadFile(dir + "/cgroup"); err == nil {
		p.Cgroup = cgroup2Of(string(b))
	}
	p.Unit, p.Container = unitOf(p.Cgroup), containerOf(p.Cgroup)
	if u, err := user.LookupId(strconv.Itoa(int(r.UID))); err == nil {
		p.User = u.Username
	}
	return p
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

var containerIDRe = regexp.MustCompile(`(?:^|[/-])([0-9a-f]{64})(?:\.scope)?(?:/|$)`)

// containerOf finds a docker/containerd/cri-o container id in a cgroup path.
func containerOf(cg string) string {
	if m := containerIDRe.FindStringSubmatch(cg); m != nil {
		return m[1]
	}
	return ""
}
