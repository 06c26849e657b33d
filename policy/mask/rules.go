package mask

import (
	"fmt"
	"slices"
)

// ruleDetectors is the rule set, in priority order: Airlock's own
// detectors (stricter validators: checksums, Luhn, known prefixes), then
// gitleaks' default rules, then the user's rules file; filtered by the
// configuration's enable and disable lists.
func ruleDetectors(cfg Config) ([]*detector, error) {
	all, err := builtinDetectors()
	if err != nil {
		return nil, err
	}
	gl, err := defaultRules()
	if err != nil {
		return nil, err
	}
	var user []*detector
	if cfg.RulesFile != "" {
		if user, err = loadRulesFile(cfg.RulesFile); err != nil {
			return nil, err
		}
	}
	for _, d := range gl { // a user rule with a default rule's id replaces it, as in gitleaks
		if slices.ContainsFunc(user, func(u *detector) bool { return u.info.Name == d.info.Name }) {
			continue
		}
		if slices.ContainsFunc(all, func(b *detector) bool { return b.info.Name == d.info.Name }) {
			d = renamed(d, "gitleaks-"+d.info.Name) // a built-in of that name ("jwt") keeps it
		}
		all = append(all, d)
	}
	all = append(all, user...)
	var out []*detector
	for _, d := range all {
		if enabled(cfg, d.info) {
			out = append(out, d)
		}
	}
	return out, nil
}

// enabled: a detector runs unless Disable names it (by id or tag) and
// Enable does not; PII detectors run only if PII is on or Enable names them.
func enabled(cfg Config, info DetectorInfo) bool {
	on := named(cfg.Enable, info)
	if info.Kind == KindPII && !cfg.PII && !on {
		return false
	}
	return on || !named(cfg.Disable, info)
}

func named(list []string, info DetectorInfo) bool {
	for _, n := range list {
		if n == info.Name || slices.Contains(info.Tags, n) {
			return true
		}
	}
	return false
}

// CheckRulesFile loads a rules file the way New would, for configuration
// validation: the error names the offending rule.
func CheckRulesFile(path string) (int, error) {
	d, err := loadRulesFile(path)
	if err != nil {
		return 0, fmt.Errorf("checking rules file: %w", err)
	}
	return len(d), nil
}

func renamed(d *detector, name string) *detector {
	c := *d
	c.info.Name = name
	return &c
}
