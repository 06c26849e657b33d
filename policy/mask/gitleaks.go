package mask

import (
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/viper"
	glconfig "github.com/zricethezav/gitleaks/v8/config"
)

// The maintained rule set: gitleaks' default configuration, read from the
// gitleaks module (config.DefaultConfig, its embedded gitleaks.toml) with
// gitleaks' own loader, so a dependency bump updates the rules. A user's
// rules_file in the same TOML format goes through the same loader.

const gitleaksModule = "github.com/zricethezav/gitleaks/v8"

// GitleaksVersion is the version of the gitleaks module the default rules
// come from ("" if the binary carries no module information).
func GitleaksVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == gitleaksModule {
				return d.Version
			}
		}
	}
	return ""
}

var defaultRules = sync.OnceValues(func() ([]*detector, error) {
	cfg, err := parseGitleaks(glconfig.DefaultConfig)
	if err != nil {
		return nil, fmt.Errorf("gitleaks default rules: %w", err)
	}
	return gitleaksDetectors(cfg, KindCredential, "gitleaks "+GitleaksVersion())
})

// parseGitleaks loads a gitleaks TOML configuration. Regular expressions
// are compiled first so an invalid one is an error naming its rule
// (gitleaks' Translate would panic). extend.path and extend.url are not
// followed: a rules file is one file.
func parseGitleaks(toml string) (cfg glconfig.Config, err error) {
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(strings.NewReader(toml)); err != nil {
		return cfg, fmt.Errorf("parsing toml: %w", err)
	}
	var vc glconfig.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return cfg, fmt.Errorf("reading rules: %w", err)
	}
	if vc.Extend.Path != "" || vc.Extend.URL != "" {
		return cfg, fmt.Errorf("extend.path and extend.url are not supported (one file; the default rules are on anyway)")
	}
	vc.Extend = glconfig.Extend{}
	for i, r := range vc.Rules {
		if _, err := regexp.Compile(r.Regex); err != nil {
			return cfg, fmt.Errorf("rule %d (%q): regex: %w", i, r.ID, err)
		}
		if _, err := regexp.Compile(r.Path); err != nil {
			return cfg, fmt.Errorf("rule %d (%q): path: %w", i, r.ID, err)
		}
	}
	defer func() {
		if p := recover(); p != nil { // gitleaks panics on some invalid input
			err = fmt.Errorf("loading rules: %v", p)
		}
	}()
	return vc.Translate()
}

// loadRulesFile reads a user's gitleaks-format rules file.
func loadRulesFile(path string) ([]*detector, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading rules file: %w", err)
	}
	cfg, err := parseGitleaks(string(b))
	if err != nil {
		return nil, fmt.Errorf("rules file %s: %w", path, err)
	}
	return gitleaksDetectors(cfg, KindCustom, "rules_file")
}

// gitleaksDetectors turns a gitleaks configuration into windowed detectors,
// in id order. Rules bound to file paths have nothing to match in traffic
// and are left out.
func gitleaksDetectors(cfg glconfig.Config, kind, source string) ([]*detector, error) {
	ids := make([]string, 0, len(cfg.Rules))
	for id := range cfg.Rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []*detector
	for _, id := range ids {
		r := cfg.Rules[id]
		if r.Regex == nil || r.Regex.String() == "" || r.Path != nil {
			continue // traffic has no file path for path-bound rules to match
		}
		if len(r.Keywords) == 0 {
			return nil, fmt.Errorf("rule %q: no keywords (every rule needs keywords to run on a stream)", id)
		}
		d, err := windowDetector(r, append(cfg.Allowlists, r.Allowlists...), kind, source)
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", id, err)
		}
		out = append(out, d)
	}
	return out, nil
}
