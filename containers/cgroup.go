package containers

import (
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Identity is what a cgroup path says about a container: the runtime's
// container id and, under Kubernetes, the pod's uid.
type Identity struct {
	ID      string // 64 hex digits (Docker, podman, containerd, CRI-O)
	Runtime string // docker | podman | containerd | crio | "" (unknown)
	PodUID  string // Kubernetes pod uid, dashed
}

var (
	// /docker/<id>, /system.slice/docker-<id>.scope, /NAME/<id> (--cgroup-parent),
	// libpod-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope.
	containerIDRe = regexp.MustCompile(`(?:^|/)(?:(docker|libpod|cri-containerd|crio)-)?([0-9a-f]{64})(?:\.scope)?(?:/|$)`)
	// kubepods/burstable/pod<uid>/ and kubepods-burstable-pod<uid_with_underscores>.slice
	podUIDRe = regexp.MustCompile(`pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})`)
)

// FromCgroup reads a container id and pod uid out of a cgroup v2 path; the
// innermost container id wins.
func FromCgroup(path string) Identity {
	var id Identity
	if ms := containerIDRe.FindAllStringSubmatch(path, -1); ms != nil {
		m := ms[len(ms)-1]
		id.ID, id.Runtime = m[2], runtimeOf(m[1], path)
	}
	if m := podUIDRe.FindStringSubmatch(path); m != nil {
		id.PodUID = strings.ReplaceAll(m[1], "_", "-")
	}
	return id
}

func runtimeOf(prefix, path string) string {
	switch {
	case prefix == "libpod" || strings.Contains(path, "/libpod_parent/"):
		return "podman"
	case prefix == "cri-containerd":
		return "containerd"
	case prefix == "crio":
		return "crio"
	case prefix == "docker" || strings.Contains(path, "/docker/"):
		return "docker"
	}
	return ""
}

// FromPID is FromCgroup of pid's cgroup v2 path (/proc/PID/cgroup's "0::"
// line); the zero Identity when the process is gone or in no container.
func FromPID(pid int) Identity {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return Identity{}
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "0::"); ok {
			return FromCgroup(rest)
		}
	}
	return Identity{}
}
