//go:build linux

package intercept

import (
	"slices"
	"testing"

	"github.com/airlock-dev/airlock/internal/testutil"
)

// TestLoaderSetTargets replaces the kernel's set step by step and reads it
// back: the trie holds exactly the last set each time.
func TestLoaderSetTargets(t *testing.T) {
	testutil.RequirePrivileged(t, "loading eBPF maps")
	l, err := Load(Config{CgroupPath: testutil.NewCgroup(t), PinDir: testutil.PinDir(t), Targets: testTargets})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Detach() })
	steps := [][]Target{
		targetsOf([]uint16{443}, "127.0.100.0/24", "fd00:a1::/64"),
		targetsOf([]uint16{443, 8443}, "127.0.100.0/24", "127.0.101.7/32"),
		targetsOf([]uint16{443}, "fd00:a1::/64"),
		nil,
	}
	for i, want := range steps {
		if err := l.SetTargets(want); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		got, err := l.Targets()
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(got, compareTargets)
		if !slices.Equal(got, want) {
			t.Errorf("step %d: kernel holds %v, want %v", i, got, want)
		}
	}
}
