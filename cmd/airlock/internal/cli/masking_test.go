package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMaskingList: every detector with id, kind and confidence, in a table
// and as JSON; the configuration's disable list and rules file show.
func TestMaskingList(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.toml")
	if err := os.WriteFile(rules, []byte("[[rules]]\nid = \"acme-token\"\nregex = '''acme_[a-z0-9]{24}'''\nkeywords = [\"acme_\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf, _ := testConfig(t, "masking:\n  disable: [gitleaks]\n  rules_file: "+rules+"\n")
	var entries []struct {
		ID, Kind, Confidence string
		Enabled              bool
		PrefilterBytes       int `json:"prefilter_bytes"`
	}
	run(t, "", "masking", "list", "--json", "--config", conf).decodeJSON(t, &entries)
	got := map[string]string{}
	for _, e := range entries {
		got[e.ID] = e.Kind + "/" + e.Confidence + "/" + map[bool]string{true: "on", false: "off"}[e.Enabled]
		if e.ID == "acme-token" && e.PrefilterBytes <= 0 {
			t.Errorf("acme-token: prefilter %d bytes, want its keyword's share", e.PrefilterBytes)
		}
	}
	for id, want := range map[string]string{
		"managed_credential": "credential/high/on", "github_token": "credential/high/on",
		"github-pat": "credential/high/off", "generic-api-key": "credential/low/off",
		"email": "pii/medium/off", "acme-token": "custom/high/on",
	} {
		if got[id] != want {
			t.Errorf("%s: %q, want %q", id, got[id], want)
		}
	}
	if len(entries) < 200 {
		t.Errorf("%d detectors listed, want gitleaks' ~220 and Airlock's own", len(entries))
	}
	table := run(t, "", "masking", "list", "--config", conf)
	if table.code != 0 || !strings.HasPrefix(table.out, "ID") || !strings.Contains(table.out, "aws-access-token") ||
		!strings.Contains(table.out, "PREFILTER") || !strings.Contains(table.out, "\nprefilter: ") {
		t.Errorf("table: code %d\n%s", table.code, table.out[:min(len(table.out), 400)])
	}
}

// TestMaskingListBadRulesFile: a rules file that does not load is an error
// naming the rule, not a silent fallback to the defaults.
func TestMaskingListBadRulesFile(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.toml")
	if err := os.WriteFile(rules, []byte("[[rules]]\nid = \"broken-rule\"\nregex = '''('''\nkeywords = [\"x\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf, _ := testConfig(t, "masking:\n  rules_file: "+rules+"\n")
	run(t, "", "masking", "list", "--config", conf).wantOneLineError(t, ExitFailure, "broken-rule")
}
