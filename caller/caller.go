// Package caller describes who opened a connection to the Claude API and where it
// was going. It is plain data: capture fills it in, TLS carries it into each
// request's context, and policy, audit and recording read it.
package caller

import (
	"context"
	"net/netip"
	"time"
)

// Process is the program that opened an intercepted connection, as far as the
// kernel (at connect time) and /proc (at accept time) could tell.
type Process struct {
	PID       int      `json:"pid"`
	UID       uint32   `json:"uid"`
	GID       uint32   `json:"gid"`
	User      string   `json:"user,omitempty"`
	Comm      string   `json:"comm,omitempty"`
	Exe       string   `json:"exe,omitempty"`
	Cmdline   []string `json:"cmdline,omitempty"`
	Cwd       string   `json:"cwd,omitempty"` // working directory at accept (/proc); action rules compare tool paths with it
	CgroupID  uint64   `json:"cgroup_id,omitempty"`
	Cgroup    string   `json:"cgroup,omitempty"`
	Unit      string   `json:"unit,omitempty"`
	Container string   `json:"container,omitempty"`
	// The executable that called connect(), as the kernel recorded it then.
	// ExeChanged means /proc at accept no longer shows it — the process
	// exec'd another binary, or exited and its pid was reused — so Exe and
	// Cmdline (read from /proc) are not the caller's: decide on the rest.
	ExeChanged bool   `json:"exe_changed,omitempty"`
	ExeName    string `json:"exe_name,omitempty"` // file name only: the kernel records no directory
	ExeIno     uint64 `json:"exe_ino,omitempty"`
	ExeDev     string `json:"exe_dev,omitempty"` // "major:minor"
	Netns      uint64 `json:"netns,omitempty"`   // network namespace cookie at connect()
	// The container as its runtime names it (Docker, podman: from the API
	// socket when there is one) and the Kubernetes pod (from the cgroup path).
	ContainerName  string `json:"container_name,omitempty"`
	ContainerImage string `json:"container_image,omitempty"`
	PodNamespace   string `json:"pod_namespace,omitempty"`
	PodName        string `json:"pod_name,omitempty"`
	PodUID         string `json:"pod_uid,omitempty"`
}

// Origin is everything known about one intercepted connection before any
// request on it has been read.
type Origin struct {
	ConnID   string         `json:"conn_id"`
	Peer     netip.AddrPort `json:"peer"` // the client's address as our listener saw it
	Dst      netip.AddrPort `json:"dst"`  // the destination the application dialled
	SNI      string         `json:"sni,omitempty"`
	Process  Process        `json:"process"`
	Accepted time.Time      `json:"accepted"`
}

type originKey struct{}

// NewContext returns a context that carries o.
func NewContext(ctx context.Context, o *Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// FromContext returns the Origin stored by NewContext, if any.
func FromContext(ctx context.Context) (*Origin, bool) {
	o, ok := ctx.Value(originKey{}).(*Origin)
	return o, ok && o != nil
}
