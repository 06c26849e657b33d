//go:build linux

package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// PinDir returns a unique, not yet existing pin directory on the bpf
// filesystem (/sys/fs/bpf/airlock-test-<random>); whatever is left in it
// is removed when tb ends, and tb fails if something was left.
func PinDir(tb testing.TB) string {
	tb.Helper()
	RequirePrivileged(tb, "pinning eBPF objects")
	dir := filepath.Join("/sys/fs/bpf", RandomName("airlock-test-"))
	tb.Cleanup(func() {
		if _, err := os.Stat(dir); err == nil {
			_ = os.RemoveAll(dir)
		}
	})
	return dir
}
