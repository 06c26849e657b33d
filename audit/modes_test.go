package audit

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The audit trail holds masked prompts and who sent them: even in a state
// directory someone made 0755, no other user may read the database or its
// WAL, including a database an older version created 0644.
func TestStoreFilesAreOwnerOnly(t *testing.T) {
	top := t.TempDir()
	dir := filepath.Join(top, "state")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// t.TempDir's folders are 0700: open them so only the modes under test stand in the way.
	for _, d := range []string{top, filepath.Dir(top)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "audit.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, StoreConfig{Path: path})
	if err := s.Write(context.Background(), sampleRecord(1), nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
	if os.Geteuid() == 0 { // prove it with a real other user, as an attacker would try
		out, err := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "cat", path).CombinedOutput()
		if err == nil {
			t.Errorf("user nobody read the audit database (%d bytes)", len(out))
		}
	}
}
