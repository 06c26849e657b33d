package installer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/airlock-dev/airlock/internal/atomicfile"
)

// mkdirAll creates path and any missing parents, recording each directory it
// created (outermost first) so uninstall removes only those.
func (in *Installer) mkdirAll(path string, mode fs.FileMode, kind string) error {
	var missing []string
	for p := path; p != "/" && p != "."; p = filepath.Dir(p) {
		if _, err := os.Stat(in.abs(p)); err == nil {
			break
		}
		missing = append(missing, p)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		k := KindDir
		if i == 0 {
			k = kind
		}
		if err := os.Mkdir(in.abs(missing[i]), mode); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("creating %s: %w", missing[i], err)
		}
		in.m.add(Action{Kind: k, Path: missing[i]})
	}
	return os.Chmod(in.abs(path), mode) // an existing state dir is tightened too
}

// writeFile puts data at path. keep=true leaves an existing file alone (the
// operator's config); otherwise a different file is replaced (an upgrade).
// It reports whether it wrote.
func (in *Installer) writeFile(path string, data []byte, mode fs.FileMode, keep bool) (bool, error) {
	old, err := os.ReadFile(in.abs(path))
	exists := err == nil
	if exists && (keep || bytes.Equal(old, data)) {
		return false, nil
	}
	if err := in.mkdirAll(filepath.Dir(path), 0o755, KindDir); err != nil {
		return false, err
	}
	if err := writeAtomic(in.abs(path), data, mode); err != nil {
		return false, err
	}
	in.m.add(Action{Kind: KindFile, Path: path, SHA256: digest(data), Replaced: exists})
	in.replaced = in.replaced || exists
	return true, nil
}

// writeAtomic writes through atomicfile, so a reader (or a crash) never
// sees half a file.
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	return atomicfile.WriteFile(path, data, mode)
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// fileDigest is the SHA-256 of the file at path, "" if unreadable.
func fileDigest(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return digest(data)
}
