//go:build !linux

package intercept

import "github.com/airlock-dev/airlock/caller"

// ProcessOf returns the kernel record's fields: /proc exists only on linux.
func ProcessOf(r Record) caller.Process {
	return caller.Process{PID: int(r.TGID), UID: r.UID, GID: r.GID, Comm: r.Comm, CgroupID: r.CgroupID, Netns: r.NetnsCookie}
}
