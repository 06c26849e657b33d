package installer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// UninstallConfig is one uninstall.
type UninstallConfig struct {
	Root   string
	PinDir string // detached and unpinned even without a manifest (a crashed daemon)
	// PinDirHost, when set, is detached and unpinned exactly there (not under
	// Root): the operator named the live bpffs directory.
	PinDirHost string
	KeepState  bool // keep the state directory (CA, audit store, recordings)
	Purge      bool // also remove files edited since install (the config)
	Hooks      Hooks
	Systemd    *Systemd
	Progress   func(Step)
}

// Uninstall undoes what the manifest lists, last change first. Without a
// manifest it still detaches and unpins, then returns ErrNoManifest (or the
// unpin error).
func Uninstall(ctx context.Context, cfg UninstallConfig) ([]Step, error) {
	in := newInstaller(Config{Root: cfg.Root, Hooks: cfg.Hooks, Systemd: cfg.Systemd, Progress: cfg.Progress})
	in.pinHost = cfg.PinDirHost
	m, err := LoadManifest(cfg.Root)
	if err != nil {
		in.m.PinDir = cfg.PinDir
		if uerr := in.unpin(ctx); uerr != nil {
			return in.steps, uerr
		}
		return in.steps, err
	}
	in.m = m
	if m.PinDir == "" {
		m.PinDir = cfg.PinDir
	}
	if err := in.undoAll(ctx, cfg.KeepState, cfg.Purge); err != nil {
		return in.steps, err
	}
	if err := os.Remove(in.abs(ManifestPath)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return in.steps, fmt.Errorf("removing manifest: %w", err)
	}
	return in.steps, nil
}

// undoAll stops the service, detaches and unpins, then reverts every other
// action in reverse. Actions that fail stay in the saved manifest for a retry.
func (in *Installer) undoAll(ctx context.Context, keepState, purge bool) error {
	var failed []Action
	var errs []error
	undo := func(a Action) {
		if err := in.undo(ctx, a, keepState, purge); err != nil {
			failed = append([]Action{a}, failed...)
			errs = append(errs, err)
		}
	}
	for _, kind := range []string{KindStart, KindEnable} {
		for i := len(in.m.Actions) - 1; i >= 0; i-- {
			if in.m.Actions[i].Kind == kind {
				undo(in.m.Actions[i])
			}
		}
	}
	errs = append(errs, in.unpin(ctx))
	for i := len(in.m.Actions) - 1; i >= 0; i-- {
		if a := in.m.Actions[i]; a.Kind != KindStart && a.Kind != KindEnable {
			undo(a)
		}
	}
	if err := errors.Join(errs...); err != nil {
		in.m.Actions = failed
		return errors.Join(err, in.m.save(in.cfg.Root))
	}
	return nil
}

func (in *Installer) undo(ctx context.Context, a Action, keepState, purge bool) error {
	switch a.Kind {
	case KindStart, KindEnable, KindReload:
		return in.undoSystemd(ctx, a)
	case KindTrust:
		return in.record("trust", "removed the CA from the trust stores", in.cfg.Hooks.UninstallTrust(ctx, in.cfg.Root, in.m.settings()))
	case KindCA, KindState:
		if keepState {
			in.step("remove", "kept", a.Path+" (--keep-state)")
			return nil
		}
		return in.record("remove", a.Path, os.RemoveAll(in.abs(a.Path)))
	case KindFile:
		return in.undoFile(a, purge)
	case KindSecret:
		// A managed key left on disk after uninstall is a credential nobody
		// guards: removed even when rotated since.
		return in.undoFile(a, true)
	case KindDir:
		return in.undoDir(a)
	}
	return fmt.Errorf("unknown manifest action %q", a.Kind)
}

func (in *Installer) undoSystemd(ctx context.Context, a Action) error {
	args := map[string][]string{
		KindStart: {"stop", UnitName}, KindEnable: {"disable", UnitName}, KindReload: {"daemon-reload"},
	}[a.Kind]
	if why := in.cfg.Systemd.Unavailable(); why != "" {
		in.step("systemctl "+args[0], "skipped", why)
		return nil
	}
	return in.record("systemctl "+args[0], UnitName, in.cfg.Systemd.systemctl(ctx, args...))
}

func (in *Installer) undoFile(a Action, purge bool) error {
	path := in.abs(a.Path)
	current := fileDigest(path)
	if current == "" {
		in.step("remove", "skipped", a.Path+" is already gone")
		return nil
	}
	if current != a.SHA256 && !purge {
		in.step("remove", "kept", a.Path+" was edited after install (remove it by hand, or uninstall --purge)")
		return nil
	}
	return in.record("remove", a.Path, os.Remove(path))
}

func (in *Installer) undoDir(a Action) error {
	err := os.Remove(in.abs(a.Path))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST):
		in.step("remove", "kept", a.Path+" is not empty")
		return nil
	}
	return in.record("remove", a.Path, err)
}

// unpin detaches the daemon's programs and removes its pins: without it, a
// crashed fail-closed daemon would leave Claude-bound connections refused.
func (in *Installer) unpin(ctx context.Context) error {
	name, path := in.m.PinDir, in.abs(in.m.PinDir)
	if in.pinHost != "" {
		name, path = in.pinHost, in.pinHost
	}
	if name == "" || in.cfg.Hooks.Unpin == nil {
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		in.step("detach", "skipped", "nothing pinned at "+name)
		return nil
	}
	removed, err := in.cfg.Hooks.Unpin(ctx, path)
	if err == nil && !removed {
		in.step("detach", "skipped", "nothing pinned at "+name)
		return nil
	}
	return in.record("detach", "detached and unpinned "+name, err)
}

// record turns the outcome of one undo into a progress line.
func (in *Installer) record(name, detail string, err error) error {
	if err != nil {
		in.step(name, "failed", fmt.Sprintf("%s: %v", detail, err))
		return fmt.Errorf("%s %s: %w", name, detail, err)
	}
	in.step(name, "ok", detail)
	return nil
}

// settings are what the manifest remembers of the installed configuration.
func (m *Manifest) settings() Settings {
	return Settings{StateDir: m.StateDir, CADir: m.CADir, PinDir: m.PinDir}
}
