package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// EnvPrefix prefixes the variables that override keys: capture.fail_mode is
// AIRLOCK_CAPTURE_FAIL_MODE; lists are comma-separated.
const EnvPrefix = "AIRLOCK"

// Source says where Load reads from. The zero value reads the default file and
// conf.d (both optional) and the environment.
type Source struct {
	File    string         // main YAML file; empty = DefaultFile (optional when defaulted)
	ConfDir string         // *.yaml merged in name order; empty = conf.d next to File
	Flags   *pflag.FlagSet // flags registered with RegisterFlags, if any
}

// ByteSize is a size that YAML may give as a number of bytes or as "64KiB", "1GB".
type ByteSize int64

// Load reads every source in order of precedence (flags > env > conf.d > file >
// defaults), decodes into a Config and validates it. Its error lists every
// problem, each naming its key.
func Load(src Source) (*Config, error) {
	src = src.withFlagPaths()
	v, err := readSources(src)
	if err != nil {
		return nil, err
	}
	var c Config
	if err := v.UnmarshalExact(&c, viper.DecodeHook(decodeHooks())); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c.resolve()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func readSources(src Source) (*viper.Viper, error) {
	v := viper.New()
	for k, val := range defaults() {
		v.SetDefault(k, val)
	}
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	if err := mergeFiles(v, src); err != nil {
		return nil, err
	}
	if err := bindFlags(v, src.Flags); err != nil {
		return nil, err
	}
	return v, nil
}

// mergeFiles reads the main file then conf.d/*.yaml. A missing file is an error
// only when the operator named it.
func mergeFiles(v *viper.Viper, src Source) error {
	file, explicit := src.File, src.File != ""
	if !explicit {
		file = DefaultFile
	}
	if err := mergeFile(v, file, explicit); err != nil {
		return err
	}
	dir := src.ConfDir
	if dir == "" {
		dir = filepath.Join(filepath.Dir(file), "conf.d")
	}
	matches, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return fmt.Errorf("config: listing %s: %w", dir, err)
	}
	sort.Strings(matches)
	for _, m := range matches {
		if err := mergeFile(v, m, true); err != nil {
			return err
		}
	}
	return nil
}

func mergeFile(v *viper.Viper, path string, required bool) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !required {
		return nil
	}
	if err != nil {
		return fmt.Errorf("config: %w (fix: create it or pass --config)", err)
	}
	defer f.Close()
	v.SetConfigType("yaml")
	if err := v.MergeConfig(f); err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	return nil
}

func decodeHooks() mapstructure.DecodeHookFunc {
	return mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(),
		byteSizeHook,
		argvHook,
		mapstructure.StringToSliceHookFunc(","),
	)
}

// byteSizeHook accepts "64KiB"-style strings for ByteSize fields.
func byteSizeHook(from, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeOf(ByteSize(0)) || from.Kind() != reflect.String {
		return data, nil
	}
	n, err := humanize.ParseBytes(data.(string))
	if err != nil {
		return nil, fmt.Errorf("invalid size %q (use e.g. 65536, 64KiB, 1GB)", data)
	}
	return ByteSize(n), nil
}

// argvHook lets a helper command be written as one string ("vault read -field=key x")
// as well as a list; the string is split on spaces, without shell quoting.
func argvHook(from, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeOf(Argv(nil)) || from.Kind() != reflect.String {
		return data, nil
	}
	return Argv(strings.Fields(data.(string))), nil
}
