package installer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// installKey stores the managed key given to install, or checks that one is
// in place. The value is never printed.
func (in *Installer) installKey() (string, string, error) {
	path := in.settings.KeyPath
	switch {
	case in.cfg.Sources.Key != nil && path == "":
		return "", "", errors.New("the configured credential is not read from a file: --key-file applies to file and systemd credentials")
	case in.cfg.Sources.Key != nil:
		return "ok", path + " (0600)", in.writeKey(path, in.cfg.Sources.Key)
	case path == "":
		return "skipped", "credential from the environment or a helper: nothing to place", nil
	}
	if _, err := os.Stat(in.abs(path)); errors.Is(err, fs.ErrNotExist) {
		in.noKey = true
		return "missing", "no managed key at " + path + " yet", nil
	}
	return "kept", "managed key present at " + path + " (not read)", nil
}

func (in *Installer) writeKey(path string, key []byte) error {
	if err := in.mkdirAll(filepath.Dir(path), 0o700, KindDir); err != nil {
		return err
	}
	_, err := os.Stat(in.abs(path))
	existed := err == nil
	if err := writeAtomic(in.abs(path), key, 0o600); err != nil {
		return fmt.Errorf("storing the managed key: %w", err)
	}
	in.m.add(Action{Kind: KindSecret, Path: path, SHA256: digest(key), Replaced: existed})
	return nil
}
