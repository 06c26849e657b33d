package trust

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/airlock-dev/airlock/internal/atomicfile"
)

// Manifest records what Install added, so Uninstall removes exactly that.
type Manifest struct {
	Files       []string `json:"files"`                  // host paths Install wrote
	Dirs        []string `json:"dirs,omitempty"`         // host dirs Install created, deepest last
	StoreFamily string   `json:"store_family,omitempty"` // which store refresh to re-run
	JavaAlias   string   `json:"java_alias,omitempty"`   // keystore alias Install imported
}

func (m *Manifest) addFile(path string) {
	if !slices.Contains(m.Files, path) {
		m.Files = append(m.Files, path)
	}
}

func (o Options) manifestPath() string { return o.at(filepath.Join(o.StateDir, manifestName)) }

func (o Options) loadManifest() (*Manifest, error) {
	b, err := os.ReadFile(o.manifestPath())
	if errors.Is(err, fs.ErrNotExist) {
		return &Manifest{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading trust manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parsing trust manifest %s: %w", o.manifestPath(), err)
	}
	return &m, nil
}

func (o Options) saveManifest(m *Manifest) error {
	if err := os.MkdirAll(filepath.Dir(o.manifestPath()), 0o700); err != nil {
		return fmt.Errorf("creating state dir: %w", err)
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	return writeFile(o.manifestPath(), b, 0o600)
}

// mkdirs creates the host directory dir under root, recording in m each
// directory it had to create so Uninstall can remove them again.
func (o Options) mkdirs(m *Manifest, dir string) error {
	if dir == "/" || exists(o.at(dir)) {
		return nil
	}
	if err := o.mkdirs(m, filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(o.at(dir), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", o.at(dir), err)
	}
	if !slices.Contains(m.Dirs, dir) {
		m.Dirs = append(m.Dirs, dir)
	}
	return nil
}

// writeFile writes atomically (atomicfile: temp file, sync, rename, sync).
func writeFile(path string, data []byte, mode os.FileMode) error {
	return atomicfile.WriteFile(path, data, mode)
}

func sameContent(path string, data []byte) bool {
	b, err := os.ReadFile(path)
	return err == nil && string(b) == string(data)
}
