package installer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Default host paths.
const (
	DefaultBinDir   = "/usr/local/bin"
	DefaultConfig   = "/etc/airlock/airlock.yaml"
	DefaultUnitPath = "/etc/systemd/system/airlockd.service"
	UnitName        = "airlockd.service"
)

// Sources are the local files install copies onto the host.
type Sources struct {
	CLI, Daemon   string // the airlock and airlockd binaries
	Unit          string // deploy's systemd unit
	ExampleConfig string // deploy's example airlock.yaml
	ExamplePolicy string // deploy's example policy (optional)
	Key           []byte // the managed key to store at Settings.KeyPath (nil: leave it)
}

// Settings are what install needs from the (installed) daemon configuration.
// Paths are host paths.
type Settings struct {
	StateDir, CADir, PinDir, PolicyFile string
	APIHosts                            []string
	KeyPath                             string // file the managed key is read from ("" for env and helper sources)
}

// Hooks are the operations other packages own. abs paths already include Root.
type Hooks struct {
	Settings       func(configAbs string) (Settings, error)
	CreateCA       func(ctx context.Context, caDirAbs string, hosts []string) (created bool, err error)
	InstallTrust   func(ctx context.Context, root string, s Settings) error
	UninstallTrust func(ctx context.Context, root string, s Settings) error
	Unpin          func(ctx context.Context, pinDirAbs string) (removed bool, err error)
	SelfTest       func(ctx context.Context) (string, error)
}

// Step is one line of progress.
type Step struct {
	Name   string `json:"name"`
	Status string `json:"status"` // ok | skipped | kept | failed
	Detail string `json:"detail,omitempty"`
}

// Config is one install.
type Config struct {
	Root      string
	Sources   Sources
	BinDir    string
	ConfigAt  string
	UnitPath  string
	SkipTrust bool
	NoStart   bool
	Hooks     Hooks
	Systemd   *Systemd
	Progress  func(Step) // called as each step ends
}

// Installer carries one install or uninstall through its steps.
type Installer struct {
	cfg      Config
	m        *Manifest
	settings Settings
	steps    []Step
	pinHost  string // uninstall: an explicit live pin directory
	noKey    bool   // the managed key is not in place: the daemon cannot start
	base     int    // actions recorded by earlier installs
	replaced bool   // this run overwrote an installed file (an upgrade): restart, not start
}

// ErrStartFailed means the files are in place but the daemon did not start or
// failed its self-test: the install is kept (uninstall removes it).
var ErrStartFailed = errors.New("daemon not running")

// Install performs every step, saving the manifest after each. A failure
// before the daemon starts rolls back what was done.
//
// Installing again (an upgrade, a repair) extends the existing manifest, so
// uninstall still undoes the first install too.
func Install(ctx context.Context, cfg Config) ([]Step, error) {
	in := newInstaller(cfg)
	if m, err := LoadManifest(cfg.Root); err == nil {
		in.m, in.base = m, len(m.Actions)
	}
	// The manifest's directory is usually the state directory; created (and
	// recorded) first so that the manifest can be saved after every step.
	err := in.mkdirAll(filepath.Dir(ManifestPath), 0o700, KindState)
	if err == nil {
		err = in.placeFiles(ctx)
	}
	if err != nil {
		return in.steps, errors.Join(err, in.rollback(ctx))
	}
	return in.steps, in.startDaemon(ctx)
}

// rollback undoes the changes of this run only, keeping an earlier install's.
func (in *Installer) rollback(ctx context.Context) error {
	earlier := in.m.Actions[:in.base:in.base]
	in.m.Actions = in.m.Actions[in.base:]
	in.step("rollback", "ok", "undoing "+fmt.Sprint(len(in.m.Actions))+" change(s)")
	pins := in.m.PinDir
	in.m.PinDir = "" // nothing was started: leave any pins alone
	err := in.undoAll(ctx, false, false)
	if err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	if len(earlier) == 0 {
		_ = os.Remove(in.abs(ManifestPath))
		return nil
	}
	in.m.Actions, in.m.PinDir = earlier, pins
	return in.m.save(in.cfg.Root)
}

func newInstaller(cfg Config) *Installer {
	if cfg.BinDir == "" {
		cfg.BinDir = DefaultBinDir
	}
	if cfg.ConfigAt == "" {
		cfg.ConfigAt = DefaultConfig
	}
	if cfg.UnitPath == "" {
		cfg.UnitPath = DefaultUnitPath
	}
	if cfg.Systemd == nil {
		cfg.Systemd = &Systemd{Root: cfg.Root}
	}
	m := &Manifest{Version: 1, InstalledAt: time.Now().UTC(), Root: cfg.Root, Unit: UnitName}
	return &Installer{cfg: cfg, m: m}
}

func (in *Installer) abs(path string) string { return underRoot(in.cfg.Root, path) }

func (in *Installer) step(name, status, detail string) {
	s := Step{Name: name, Status: status, Detail: detail}
	in.steps = append(in.steps, s)
	if in.cfg.Progress != nil {
		in.cfg.Progress(s)
	}
}

// run performs one named step and saves the manifest after it.
func (in *Installer) run(name string, fn func() (status, detail string, err error)) error {
	status, detail, err := fn()
	if err != nil {
		in.step(name, "failed", err.Error())
		return fmt.Errorf("%s: %w", name, err)
	}
	in.step(name, status, detail)
	if err := in.m.save(in.cfg.Root); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (in *Installer) placeFiles(ctx context.Context) error {
	steps := []struct {
		name string
		fn   func() (string, string, error)
	}{
		{"binaries", in.installBinaries},
		{"config", in.installConfig},
		{"state dir", in.installStateDir},
		{"policy", in.installPolicy},
		{"credential", in.installKey},
		{"ca", func() (string, string, error) { return in.installCA(ctx) }},
		{"trust", func() (string, string, error) { return in.installTrust(ctx) }},
		{"systemd unit", in.installUnit},
	}
	for _, s := range steps {
		if err := in.run(s.name, s.fn); err != nil {
			return err
		}
	}
	return nil
}

func (in *Installer) installBinaries() (string, string, error) {
	var placed []string
	bins := [][2]string{{in.cfg.Sources.CLI, "airlock"}, {in.cfg.Sources.Daemon, "airlockd"}}
	for _, b := range bins {
		data, err := os.ReadFile(b[0])
		if err != nil {
			return "", "", fmt.Errorf("reading binary: %w", err)
		}
		dst := filepath.Join(in.cfg.BinDir, b[1])
		if _, err := in.writeFile(dst, data, 0o755, false); err != nil {
			return "", "", err
		}
		placed = append(placed, dst)
	}
	return "ok", strings.Join(placed, ", "), nil
}

func (in *Installer) installConfig() (string, string, error) {
	data, err := os.ReadFile(in.cfg.Sources.ExampleConfig)
	if err != nil {
		return "", "", fmt.Errorf("reading example config: %w", err)
	}
	wrote, err := in.writeFile(in.cfg.ConfigAt, data, 0o640, true)
	if err != nil {
		return "", "", err
	}
	if in.settings, err = in.cfg.Hooks.Settings(in.abs(in.cfg.ConfigAt)); err != nil {
		return "", "", fmt.Errorf("reading %s: %w", in.cfg.ConfigAt, err)
	}
	in.m.PinDir, in.m.StateDir, in.m.CADir = in.settings.PinDir, in.settings.StateDir, in.settings.CADir
	if !wrote {
		return "kept", in.cfg.ConfigAt + " exists: left unchanged", nil
	}
	return "ok", in.cfg.ConfigAt + " from the example", nil
}

func (in *Installer) installStateDir() (string, string, error) {
	if err := in.mkdirAll(in.settings.StateDir, 0o700, KindState); err != nil {
		return "", "", err
	}
	return "ok", in.settings.StateDir + " (0700)", nil
}

func (in *Installer) installPolicy() (string, string, error) {
	if in.cfg.Sources.ExamplePolicy == "" || in.settings.PolicyFile == "" {
		return "skipped", "no policy file configured", nil
	}
	data, err := os.ReadFile(in.cfg.Sources.ExamplePolicy)
	if err != nil {
		return "", "", fmt.Errorf("reading example policy: %w", err)
	}
	wrote, err := in.writeFile(in.settings.PolicyFile, data, 0o640, true)
	if err != nil || !wrote {
		return "kept", in.settings.PolicyFile + " exists: left unchanged", err
	}
	return "ok", in.settings.PolicyFile + " from the example", nil
}
