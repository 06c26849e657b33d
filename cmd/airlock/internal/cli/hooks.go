package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/airlock-dev/airlock/cmd/airlock/internal/installer"
	"github.com/airlock-dev/airlock/intercept"
	"github.com/airlock-dev/airlock/internal/config"
	"github.com/airlock-dev/airlock/tlsmitm"
	"github.com/airlock-dev/airlock/tlsmitm/trust"
)

// hooks wires the installer to the packages that own each operation. unit
// is the systemd unit being installed (where LoadCredential= names the key file).
func (a *app) hooks(root, unit string) installer.Hooks {
	return installer.Hooks{
		Settings: func(configAbs string) (installer.Settings, error) {
			cfg, err := loadConfigAt(configAbs)
			if err != nil {
				return installer.Settings{}, err
			}
			return installer.Settings{StateDir: cfg.StateDir, CADir: cfg.CADir(), PinDir: cfg.Capture.PinDir,
				PolicyFile: cfg.Policy.File, APIHosts: cfg.Capture.APIHosts, KeyPath: keyPath(cfg, unit)}, nil
		},
		CreateCA: func(_ context.Context, dir string, hosts []string) (bool, error) {
			existed := caExists(dir)
			_, err := tlsmitm.LoadOrCreateCA(tlsmitm.CAConfig{Dir: dir, Hosts: hosts}, nil)
			return !existed && err == nil, err
		},
		InstallTrust: func(ctx context.Context, root string, s installer.Settings) error {
			ca, err := loadCA(filepath.Join(root, s.CADir), s.APIHosts)
			if err != nil {
				return err
			}
			return trust.Install(ctx, trust.Options{Root: root, StateDir: s.StateDir}, ca.CertPEM())
		},
		UninstallTrust: func(ctx context.Context, root string, s installer.Settings) error {
			return trust.Uninstall(ctx, trust.Options{Root: root, StateDir: s.StateDir})
		},
		Unpin: func(_ context.Context, pinDir string) (bool, error) {
			return true, intercept.Uninstall(pinDir)
		},
		SelfTest: a.selfTest,
	}
}

// pinDir is the configured pin directory, else intercept's default.
func (a *app) pinDir() string {
	if cfg, err := a.loadConfig(); err == nil && cfg.Capture.PinDir != "" {
		return cfg.Capture.PinDir
	}
	return intercept.DefaultPinDir
}

// caExists reports whether dir holds a CA certificate.
func caExists(dir string) bool {
	_, err := os.Stat(tlsmitm.CACertPath(dir))
	return err == nil
}

// errNoCA means the CA has not been created yet.
var errNoCA = errors.New("no CA yet")

// loadCA loads an existing CA without creating one: reading commands must
// not mint a CA as a side effect.
func loadCA(dir string, hosts []string) (*tlsmitm.Authority, error) {
	if !caExists(dir) {
		return nil, fmt.Errorf("%w in %s", errNoCA, dir)
	}
	ca, err := tlsmitm.LoadOrCreateCA(tlsmitm.CAConfig{Dir: dir, Hosts: hosts}, nil)
	if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("reading the CA in %s needs root: %w", dir, err)
	}
	return ca, err
}

// keyPath is the file the default managed credential is read from: its file
// source, or the file the unit's LoadCredential= loads for its systemd source.
func keyPath(cfg *config.Config, unit string) string {
	if len(cfg.Credentials) == 0 {
		return ""
	}
	c := cfg.Credentials[0]
	if c.File != "" {
		return c.File
	}
	if c.Systemd != "" {
		path, _ := loadCredentialPath(unit, c.Systemd)
		return path
	}
	return ""
}
