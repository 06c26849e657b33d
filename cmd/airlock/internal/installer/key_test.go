package installer

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func withKeyPath(h Hooks, path string) Hooks {
	settings := h.Settings
	h.Settings = func(p string) (Settings, error) {
		s, err := settings(p)
		s.KeyPath = path
		return s, err
	}
	return h
}

func TestKeyIsStoredPrivateAndAlwaysRemoved(t *testing.T) {
	f := newFixture(t)
	cfg := f.config()
	cfg.Hooks = withKeyPath(cfg.Hooks, "/etc/airlock/credentials/anthropic-api-key")
	cfg.Sources.Key = []byte("sk-ant-api03-FAKE-demo-key-not-real\n")
	steps, err := Install(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if strings.Contains(s.Detail, "FAKE-demo") {
			t.Fatalf("step %q prints the key", s.Name)
		}
	}
	key := filepath.Join(f.root, "etc/airlock/credentials/anthropic-api-key")
	st, err := os.Stat(key)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	if st, _ := os.Stat(filepath.Dir(key)); st.Mode().Perm() != 0o700 {
		t.Errorf("credentials dir mode %v, want 0700", st.Mode().Perm())
	}
	if err := os.WriteFile(key, []byte("sk-ant-api03-FAKE-rotated-not-real\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Uninstall(context.Background(), f.uninstallConfig()); err != nil {
		t.Fatal(err)
	}
	if left := tree(t, f.root); len(left) != 0 {
		t.Errorf("uninstall left %v (a rotated key must go too)", left)
	}
}

func TestMissingKeySkipsStart(t *testing.T) {
	f := newFixture(t)
	cfg := f.config()
	cfg.Hooks = withKeyPath(cfg.Hooks, "/etc/airlock/credentials/anthropic-api-key")
	cfg.Systemd = fakeSystemd(t, f)
	steps, err := Install(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(f.calls, "systemctl start airlockd.service") {
		t.Errorf("started without a managed key: %v", f.calls)
	}
	i := slices.IndexFunc(steps, func(s Step) bool { return s.Name == "start" })
	if i < 0 || steps[i].Status != "skipped" || !strings.Contains(steps[i].Detail, "no managed key") {
		t.Errorf("start step = %+v", steps)
	}
}
