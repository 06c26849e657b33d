package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airlock-dev/airlock/policy/mask"
)

func (a *app) maskingCommand() *cobra.Command {
	return group("masking", "Inspect the secret and personal-data detectors",
		`  airlock masking list
  airlock masking list --json`,
		a.maskingListCommand())
}

func (a *app) maskingListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "Print every detector with its id, kind, confidence, tags and whether it is on",
		Long: `list prints every detector the masker knows: Airlock's own, gitleaks' default
rules (from the gitleaks module airlock was built with) and those of
masking.rules_file, in priority order. ENABLED reflects masking.disable,
masking.enable (ids or tags) and masking.pii from the configuration; without a
loadable configuration the defaults apply. PREFILTER is what each detector's
keywords (or a literal list's values) add to the keyword prefilter, in bytes;
the total is bounded by masking.max_prefilter.`,
		Example: `  airlock masking list
  airlock masking list --json | jq -r '.[] | select(.enabled) | .id'`,
		Args: exactArgs(),
		RunE: func(*cobra.Command, []string) error { return a.maskingList() },
	}
}

func (a *app) maskingList() error {
	cfg := mask.Config{}
	c, err := a.loadConfig()
	switch {
	case err == nil:
		cfg = c.Masking.MaskConfig(nil)
	case a.configPath != defaultConfigPath:
		return err // a named configuration must load
	}
	entries, err := mask.Catalog(cfg)
	if err != nil {
		return fail(err, "fix masking.rules_file, masking.custom or masking.literals (the error names the rule or list)", "loading the detectors")
	}
	if a.jsonOut {
		return writeJSON(a.io.Out, entries)
	}
	t := newTable(a.io.Out, "ID", "KIND", "CONFIDENCE", "ENABLED", "PREFILTER", "TAGS", "SOURCE")
	total := 0
	for _, e := range entries {
		t.row(e.Name, e.Kind, e.Confidence, e.Enabled, e.PrefilterBytes, strings.Join(e.Tags, ","), e.Source)
		total += e.PrefilterBytes
	}
	if err := t.flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.io.Out, "\nprefilter: %d bytes for %d detectors (PREFILTER: bytes each one's keywords or values add; bounded by masking.max_prefilter)\n", total, len(entries))
	return err
}
