//go:build linux

package intercept

import (
	"os"
	"testing"

	"github.com/airlock-dev/airlock/containers"
)

func TestUnitAndContainer(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct{ cgroup, unit, container string }{
		{"/system.slice/nginx.service", "nginx.service", ""},
		{"/user.slice/user-1000.slice/session-3.scope", "session-3.scope", ""},
		{"/system.slice/docker-" + id + ".scope", "docker-" + id + ".scope", id},
		{"/kubepods/besteffort/pod1/" + id, "", id},
		{"/", "", ""},
	}
	for _, tt := range tests {
		if u, c := unitOf(tt.cgroup), containers.FromCgroup(tt.cgroup).ID; u != tt.unit || c != tt.container {
			t.Errorf("%s: unit %q container %q, want %q %q", tt.cgroup, u, c, tt.unit, tt.container)
		}
	}
}

func TestProcessOfSelf(t *testing.T) {
	p := ProcessOf(Record{TGID: uint32(os.Getpid()), UID: uint32(os.Getuid()), Comm: "x"})
	exe, _ := os.Executable()
	if p.PID != os.Getpid() || p.Exe != exe || len(p.Cmdline) == 0 || p.Cmdline[0] != os.Args[0] {
		t.Errorf("ProcessOf(self) = %+v", p)
	}
	if p.Cgroup == "" {
		t.Errorf("no cgroup path for self")
	}
}

// TestProcessOfIdentityMismatch: a recorded executable that is not the one
// /proc shows, or a start time of another process, marks the caller.
func TestProcessOfIdentityMismatch(t *testing.T) {
	started, err := startTicks("/proc/self")
	if err != nil {
		t.Fatal(err)
	}
	self := selfExe(t)
	rec := Record{TGID: uint32(os.Getpid()), Identity: Identity{ExeIno: self.ino + 1, StartBoottime: started * nsPerTick}}
	if p := ProcessOf(rec); !p.ExeChanged || p.Exe == "" {
		t.Errorf("another executable: %+v, want exe_changed with /proc's exe", p)
	}
	rec.Identity = Identity{ExeIno: self.ino, StartBoottime: (started + 1) * nsPerTick}
	if p := ProcessOf(rec); !p.ExeChanged || p.Exe != "" || p.Cmdline != nil {
		t.Errorf("another process on the pid: %+v, want exe_changed and nothing from /proc", p)
	}
}
