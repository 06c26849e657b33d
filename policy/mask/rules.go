package mask

import (
	"fmt"
	"slices"
	"strings"
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
	all = append(all, decoderDetectors()...)
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
	attachTwins(all)
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

// CatalogEntry is one detector of the rule set and whether the
// configuration turns it on.
type CatalogEntry struct {
	DetectorInfo
	Enabled bool `json:"enabled"`
	// PrefilterBytes is what the detector's keywords (or literal values)
	// add to the keyword prefilter.
	PrefilterBytes int `json:"prefilter_bytes"`
}

// Catalog lists every detector the configuration could run, in priority
// order (the managed credential, literal lists and custom patterns from
// the configuration, built-in, gitleaks, rules file), each with whether it
// is enabled and its share of the prefilter.
func Catalog(cfg Config) ([]CatalogEntry, error) {
	all := cfg
	all.PII, all.Disable, all.Enable = true, nil, nil
	e, err := newEngine(all, nil)
	if err != nil {
		return nil, err
	}
	var out []CatalogEntry
	for i, d := range e.detectors {
		info := d.info
		if info.Name == placeholderName {
			continue
		}
		on := info.Source == "config" || info.Name == ManagedCredential || enabled(cfg, info)
		out = append(out, CatalogEntry{DetectorInfo: info, Enabled: on, PrefilterBytes: e.prefilterBytes[i]})
	}
	return out, nil
}

// builtinTwins names the gitleaks rules each built-in duplicates. AWS key
// ids have none on purpose: issue 15 wants AWS's documentation example
// (…EXAMPLE, which gitleaks allow-lists) masked.
var builtinTwins = map[string][]string{
	"github_token":              {"github-pat", "github-oauth", "github-app-token", "github-refresh-token"},
	"github_fine_grained_token": {"github-fine-grained-pat"},
	"gitlab_token":              {"gitlab-pat", "gitlab-ptt", "gitlab-rrt", "gitlab-deploy-token"},
	"google_api_key":            {"gcp-api-key"},
	"slack_token":               {"slack-bot-token", "slack-user-token", "slack-legacy-token"},
}

// attachTwins sets each built-in's twin check from the gitleaks rules in
// dets (a built-in whose twins are absent, disabled or renamed keeps none).
func attachTwins(dets []*detector) {
	byName := map[string]*winRule{}
	for _, d := range dets {
		if d.win != nil {
			byName[d.info.Name] = d.win
		}
	}
	for _, d := range dets {
		var twins []*winRule
		for _, id := range builtinTwins[d.info.Name] {
			if w := byName[id]; w != nil {
				twins = append(twins, w)
			}
		}
		if len(twins) > 0 {
			allow := twinAllowlists(twins)
			d.twin = func(v string) bool { return twinsAccept(allow, v) }
		}
	}
}

// twinAllowlists is the union of the twins' allow-lists, each once (the
// global lists are in every rule's).
func twinAllowlists(twins []*winRule) []*allowlist {
	var out []*allowlist
	for _, w := range twins {
		for _, a := range w.allowlists {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// twinsAccept: the value is not a placeholder (its body, after the
// provider prefix, has more than two distinct bytes: ghp_xxxx... and
// glpat-XXXX-XXXX are documentation) and no twin's allow-list takes it.
// Entropy floors are not applied: test keys here read FAKEFAKE..., and a
// low-entropy token with a provider's prefix is still worth masking.
func twinsAccept(allow []*allowlist, v string) bool {
	return distinctBytes(v[strings.IndexAny(v, "_-")+1:]) > 2 && !allowedBy(allow, v, v, v, true)
}

func distinctBytes(s string) int {
	var seen [256]bool
	n := 0
	for i := 0; i < len(s); i++ {
		if !seen[s[i]] {
			seen[s[i]], n = true, n+1
		}
	}
	return n
}
