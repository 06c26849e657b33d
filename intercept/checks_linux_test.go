//go:build linux

package intercept

import (
	"errors"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/internal/testutil"
)

// TestChecks: on the CI host (root, cgroup2, CGROUP_BPF) every check passes;
// a missing bpffs is reported with a fix.
func TestChecks(t *testing.T) {
	testutil.RequirePrivileged(t, "probing eBPF features")
	checks := Checks(Config{PinDir: testutil.PinDir(t)})
	if want := 6 + len(hooks); len(checks) != want {
		t.Errorf("got %d checks, want %d", len(checks), want)
	}
	for _, c := range checks {
		if !c.OK {
			t.Errorf("check %s failed: %s (fix: %s)", c.Name, c.Detail, c.Fix)
		}
	}
	bad := Checks(Config{PinDir: t.TempDir() + "/pins"})
	last := bad[len(bad)-1]
	if last.Name != "bpffs mounted" || last.OK || !strings.Contains(last.Fix, "mount -t bpf") {
		t.Errorf("bpffs check on a plain directory = %+v", last)
	}
}

// TestLoadSetupErrors: a bad cgroup path or pin location gives an error
// that says what is missing and how to fix it.
func TestLoadSetupErrors(t *testing.T) {
	testutil.RequirePrivileged(t, "loading eBPF programs")
	tests := []struct {
		name string
		cfg  Config
		what string
	}{
		{"not a cgroup2 dir", Config{CgroupPath: t.TempDir(), PinDir: testutil.PinDir(t)}, "not a cgroup v2 directory"},
		{"pin dir not on bpffs", Config{CgroupPath: testutil.NewCgroup(t), PinDir: t.TempDir() + "/pins"}, "not on a bpf filesystem"},
	}
	for _, tt := range tests {
		_, err := Load(tt.cfg)
		var se *SetupError
		if !errors.As(err, &se) || !strings.Contains(se.What, tt.what) || se.Fix == "" {
			t.Errorf("%s: Load error = %v, want a SetupError saying %q with a fix", tt.name, err, tt.what)
		}
	}
}

// TestMaxNamespacesLimitFitsTheKernelTable: the configurable bound leaves
// room in the kernel's table of namespace listeners for the host's own.
func TestMaxNamespacesLimitFitsTheKernelTable(t *testing.T) {
	spec, err := loadRedirect()
	if err != nil {
		t.Fatal(err)
	}
	m := spec.Maps["netns_listeners"]
	if m == nil || int(m.MaxEntries) != MaxNamespacesLimit+1 {
		t.Fatalf("netns_listeners = %+v, want %d entries (MaxNamespacesLimit and the host's)", m, MaxNamespacesLimit+1)
	}
}
