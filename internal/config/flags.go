package config

import (
	"fmt"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// flagKeys maps the flags RegisterFlags defines to the keys they override.
var flagKeys = map[string]string{
	"state-dir":    "state_dir",
	"runtime-dir":  "runtime_dir",
	"log-level":    "log.level",
	"log-format":   "log.format",
	"admin-socket": "admin.socket",
}

// RegisterFlags adds --config, --conf-dir and the flags that override the most
// used keys. Pass the same FlagSet as Source.Flags.
func RegisterFlags(fs *pflag.FlagSet) {
	fs.String("config", DefaultFile, "main configuration file")
	fs.String("conf-dir", "", "directory of *.yaml merged after the main file (default: conf.d next to --config)")
	fs.String("state-dir", "", "state directory (CA, audit store)")
	fs.String("runtime-dir", "", "runtime directory (lock, admin socket)")
	fs.String("log-level", "", "debug | info | warn | error")
	fs.String("log-format", "", "auto | json | console")
	fs.String("admin-socket", "", "admin API unix socket")
}

// withFlagPaths takes --config and --conf-dir from the flags when given.
func (s Source) withFlagPaths() Source {
	if s.Flags == nil {
		return s
	}
	if f := s.Flags.Lookup("config"); f != nil && f.Changed {
		s.File = f.Value.String()
	}
	if f := s.Flags.Lookup("conf-dir"); f != nil && f.Changed {
		s.ConfDir = f.Value.String()
	}
	return s
}

// bindFlags overrides keys with the flags the operator set; unset flags leave
// the lower layers alone (their empty defaults are never used).
func bindFlags(v *viper.Viper, fs *pflag.FlagSet) error {
	if fs == nil {
		return nil
	}
	for name, key := range flagKeys {
		f := fs.Lookup(name)
		if f == nil || !f.Changed {
			continue
		}
		if err := v.BindPFlag(key, f); err != nil {
			return fmt.Errorf("config: binding --%s: %w", name, err)
		}
	}
	return nil
}
