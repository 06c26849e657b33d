// Package installer puts Airlock on a host and takes it off again: binaries,
// configuration, state directory, CA, trust, systemd unit, and a manifest of
// every change so that uninstall undoes exactly what install did — also after
// a crash, and under a root prefix (tests, image building) where no systemctl
// is run. What belongs to other packages (CA, trust, BPF pins, the self-test)
// arrives as Hooks.
package installer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// ManifestPath is where the manifest lives on the host (under Root).
const ManifestPath = "/var/lib/airlock/install-manifest.json"

// ErrNoManifest means nothing was installed by airlock install (or under this root).
var ErrNoManifest = errors.New("no install manifest")

// Action kinds, each undone in its own way.
const (
	KindDir    = "dir"            // a directory install created: removed when empty
	KindState  = "state_dir"      // the state directory: removed with its content unless kept
	KindFile   = "file"           // a file install wrote: removed unless edited since
	KindSecret = "secret"         // the managed key install stored: always removed
	KindCA     = "ca"             // a CA install created: its directory is removed
	KindTrust  = "trust"          // trust provisioning: undone by the trust hook
	KindEnable = "systemd_enable" // systemctl enable
	KindStart  = "systemd_start"  // systemctl start
	KindReload = "systemd_reload" // a unit file changed: daemon-reload after removal
)

// Action is one change install made to the host. Paths are host paths (without Root).
type Action struct {
	Kind     string `json:"kind"`
	Path     string `json:"path,omitempty"`
	SHA256   string `json:"sha256,omitempty"`   // of what install wrote, to notice later edits
	Replaced bool   `json:"replaced,omitempty"` // an older file was overwritten (an upgrade)
}

// Manifest lists every change of one install, in the order made.
type Manifest struct {
	Version     int       `json:"version"`
	InstalledAt time.Time `json:"installed_at"`
	Root        string    `json:"root"`
	Unit        string    `json:"unit"`
	PinDir      string    `json:"pin_dir,omitempty"` // always detached and unpinned by uninstall
	StateDir    string    `json:"state_dir,omitempty"`
	CADir       string    `json:"ca_dir,omitempty"`
	Actions     []Action  `json:"actions"`
}

// add records a; a change to something already recorded (an upgraded binary)
// only updates its digest, so it is undone once and keeps its first position.
func (m *Manifest) add(a Action) {
	for i, old := range m.Actions {
		if old.Kind == a.Kind && old.Path == a.Path {
			m.Actions[i].SHA256 = a.SHA256
			return
		}
	}
	m.Actions = append(m.Actions, a)
}

// LoadManifest reads the manifest of the install under root.
func LoadManifest(root string) (*Manifest, error) {
	path := underRoot(root, ManifestPath)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s", ErrNoManifest, path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("parsing manifest %s: %w", path, err)
	}
	return &m, nil
}

// save writes the manifest atomically; install calls it after every step so
// that an interrupted install can still be undone.
func (m *Manifest) save(root string) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	path := underRoot(root, ManifestPath)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("saving manifest: %w", err)
	}
	return writeAtomic(path, append(data, '\n'), 0o600)
}

// underRoot maps a host path into the root prefix.
func underRoot(root, path string) string {
	if root == "" || root == "/" {
		return path
	}
	return filepath.Join(root, path)
}
