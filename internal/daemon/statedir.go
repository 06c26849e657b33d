package daemon

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/airlock-dev/airlock/internal/atomicfile"
)

// prepareStateDir creates the state directory (0700), narrows one that
// already exists with a wider mode (a hostPath or a hand-made directory is
// often 0755, and the audit trail inside holds masked prompts), and proves it
// is writable now, rather than failing later when the CA or audit store is written.
func prepareStateDir(dir string) error {
	fix := fmt.Sprintf("make %s writable by root (or set state_dir / --state-dir to a writable directory)", dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail("state directory "+dir+" cannot be created", fix, err)
	}
	if err := restrictDir(dir); err != nil {
		return fail("state directory "+dir+" cannot be restricted to 0700", fix, unwrapPath(err))
	}
	probe, err := os.CreateTemp(dir, ".airlockd-probe-*")
	if err != nil {
		return fail("state directory "+dir+" is not writable", fix, unwrapPath(err))
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// restrictDir narrows dir to 0700 only when it is wider: a chmod that
// changes nothing would fail on a read-only mount, hiding the clearer
// "not writable" the probe reports.
func restrictDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&^0o700 == 0 {
		return nil
	}
	return os.Chmod(dir, 0o700)
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// installKey returns this installation's secret (created on first start): it
// keys the embedded-credential fingerprints and the masking placeholders, so
// they are stable across restarts but reveal nothing off this host.
func installKey(stateDir string) ([]byte, error) {
	path := filepath.Join(stateDir, "install.key")
	key, err := os.ReadFile(path)
	if err == nil && len(key) == 32 {
		return key, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return key, atomicfile.WriteFile(path, key, 0o400)
}
