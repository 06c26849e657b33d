package cli

import (
	"path/filepath"

	"github.com/airlock-dev/airlock/internal/config"
)

const (
	defaultConfigPath = config.DefaultFile
	defaultSocket     = "/run/airlock/admin.sock"
)

// loadConfig reads the daemon's configuration exactly as airlockd would. The
// default file is optional (defaults apply); a file named with --config is not.
func (a *app) loadConfig() (*config.Config, error) {
	src := config.Source{}
	if a.configPath != defaultConfigPath {
		src.File = a.configPath
	}
	cfg, err := config.Load(src)
	if err != nil {
		return nil, fail(err, "correct "+a.configPath+" (every problem is listed) or pass --config", "invalid configuration")
	}
	return cfg, nil
}

// loadConfigAt reads the configuration at path (for install, under --root).
func loadConfigAt(path string) (*config.Config, error) {
	return config.Load(config.Source{File: path, ConfDir: filepath.Join(filepath.Dir(path), "conf.d")})
}

// socketPath is --socket, else the configured admin socket, else the default:
// a configuration that does not validate (say, before a credential is set)
// must not stop the operator from reaching a running daemon.
func (a *app) socketPath() string {
	if a.socket != "" {
		return a.socket
	}
	if cfg, err := a.loadConfig(); err == nil && cfg.Admin.Socket != "" {
		return cfg.Admin.Socket
	}
	return defaultSocket
}
