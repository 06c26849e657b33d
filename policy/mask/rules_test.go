package mask

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDisableEnableByIDAndTag: Disable takes ids and tags, Enable wins
// over Disable, PII stays off unless turned on or enabled by name.
func TestDisableEnableByIDAndTag(t *testing.T) {
	const gh = "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000"
	for _, c := range []struct {
		cfg    Config
		masked bool
	}{
		{Config{}, true},
		{Config{Disable: []string{"github_token"}}, true}, // gitleaks' github-pat still has it
		{Config{Disable: []string{"github_token", "gitleaks"}}, false},
		{Config{Disable: []string{"builtin", "github"}}, false},
		{Config{Disable: []string{"builtin", "github"}, Enable: []string{"github-pat"}}, true},
	} {
		m := newTestMasker(t, c.cfg)
		out, _ := m.Text("token "+gh, nil)
		if strings.Contains(out, gh) == c.masked {
			t.Errorf("%+v: %q", c.cfg, out)
		}
	}
	m := newTestMasker(t, Config{Enable: []string{"email"}})
	if out, _ := m.Text("mail bob@example.com", nil); strings.Contains(out, "bob@") {
		t.Errorf("email enabled by id not masking: %q", out)
	}
}

// TestRulesFile: a team's gitleaks TOML is loaded as is (kind custom); an
// invalid rule is an error that names it.
func TestRulesFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	writeFile(t, good, `
title = "team rules"
[[rules]]
id = "acme-internal-token"
description = "ACME internal token"
regex = '''\b(acme_[a-z0-9]{24})\b'''
keywords = ["acme_"]
tags = ["acme"]
`)
	m := newTestMasker(t, Config{RulesFile: good})
	out, res := m.Text("use acme_0123456789abcdefghijklmn now", nil)
	if res.Counts["acme-internal-token"] != 1 || strings.Contains(out, "acme_0123") {
		t.Fatalf("rules file rule did not mask: %q %v", out, res.Counts)
	}
	for _, d := range m.Detectors() {
		if d.Name == "acme-internal-token" && (d.Kind != KindCustom || d.Source != "rules_file") {
			t.Errorf("info %+v", d)
		}
	}
	bad := filepath.Join(dir, "bad.toml")
	writeFile(t, bad, "[[rules]]\nid = \"broken-rule\"\nregex = '''(unclosed'''\nkeywords = [\"x\"]\n")
	if _, err := New(Config{RulesFile: bad}); err == nil || !strings.Contains(err.Error(), "broken-rule") {
		t.Errorf("invalid rule: err %v, want it named", err)
	}
	nokw := filepath.Join(dir, "nokw.toml")
	writeFile(t, nokw, "[[rules]]\nid = \"no-keywords\"\nregex = '''x+'''\n")
	if _, err := CheckRulesFile(nokw); err == nil || !strings.Contains(err.Error(), "no-keywords") {
		t.Errorf("rule without keywords: err %v, want it named", err)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
