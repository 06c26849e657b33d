package cli

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/airlock-dev/airlock/cmd/airlock/internal/doctor"
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

// loadCA loads an existing CA without creating one.
func loadCA(dir string, hosts []string) (*tlsmitm.Authority, error) {
	return tlsmitm.LoadCA(tlsmitm.CAConfig{Dir: dir, Hosts: hosts})
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
		path, _ := installer.LoadCredentialPath(unit, c.Systemd)
		return path
	}
	return ""
}

// selfTest is install's last step: the doctor's path probe, with retries
// while the freshly started daemon attaches.
func (a *app) selfTest(ctx context.Context) (string, error) {
	cfg, ca, err := a.currentCA()
	if err != nil {
		return "", err
	}
	for range 10 {
		var c doctor.Check
		if c, err = doctor.ProbePath(ctx, cfg.Capture.APIHosts[0], "", ca.CertPEM()); err == nil {
			return c.Detail, nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return "", err
}
