package daemon

import (
	"os"
	"path/filepath"
	"testing"
)

// A state directory that already exists with a wider mode (a DaemonSet's
// hostPath, a hand-made folder) is narrowed to 0700 before anything is
// written into it.
func TestPrepareStateDirNarrowsExistingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := prepareStateDir(dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("state directory mode %v, want 0700", fi.Mode().Perm())
	}
}
