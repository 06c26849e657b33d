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
	"gopkg.in/yaml.v3"
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
	v, files, err := readSources(src)
	if err != nil {
		return nil, err
	}
	var c Config
	if err := v.UnmarshalExact(&c, viper.DecodeHook(decodeHooks())); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c.Policy.InlineFile = inlinePolicyFile(files)
	c.Resolve()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func readSources(src Source) (*viper.Viper, []string, error) {
	v := viper.New()
	for k, val := range defaults() {
		v.SetDefault(k, val)
	}
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	files, err := mergeFiles(v, src)
	if err != nil {
		return nil, nil, err
	}
	if err := bindFlags(v, src.Flags); err != nil {
		return nil, nil, err
	}
	return v, files, nil
}

// mergeFiles reads the main file then conf.d/*.yaml and returns the files it
// read, in order. A missing file is an error only when the operator named it.
func mergeFiles(v *viper.Viper, src Source) ([]string, error) {
	file, explicit := src.File, src.File != ""
	if !explicit {
		file = DefaultFile
	}
	var read []string
	if ok, err := mergeFile(v, file, explicit); err != nil {
		return nil, err
	} else if ok {
		read = append(read, file)
	}
	dir := src.ConfDir
	if dir == "" {
		dir = filepath.Join(filepath.Dir(file), "conf.d")
	}
	matches, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("config: listing %s: %w", dir, err)
	}
	sort.Strings(matches)
	for _, m := range matches {
		if _, err := mergeFile(v, m, true); err != nil {
			return nil, err
		}
	}
	return append(read, matches...), nil
}

func mergeFile(v *viper.Viper, path string, required bool) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !required {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("config: %w (fix: create it or pass --config)", err)
	}
	defer f.Close()
	v.SetConfigType("yaml")
	if err := v.MergeConfig(f); err != nil {
		return false, fmt.Errorf("config: %s: %w", path, err)
	}
	return true, nil
}

// inlinePolicyFile is the last file that defines policy.rules or
// policy.default: the one the policy compiler must read.
func inlinePolicyFile(files []string) string {
	found := ""
	for _, f := range files {
		var doc struct {
			Policy map[string]any `yaml:"policy"`
		}
		b, err := os.ReadFile(f)
		if err != nil || yaml.Unmarshal(b, &doc) != nil {
			continue
		}
		if _, ok := doc.Policy["rules"]; ok {
			found = f
		} else if _, ok := doc.Policy["default"]; ok {
			found = f
		}
	}
	return found
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
