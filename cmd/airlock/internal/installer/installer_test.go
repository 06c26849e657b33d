package installer

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fixture is a root prefix plus source files and fake hooks that record calls.
type fixture struct {
	root, src string
	calls     []string
	caErr     error
	selfErr   error
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{root: t.TempDir(), src: t.TempDir()}
	for name, body := range map[string]string{
		"airlock": "cli-binary", "airlockd": "daemon-binary",
		"airlockd.service": "[Service]\nExecStart=/usr/local/bin/airlockd\n",
		"airlock.yaml":     "state_dir: /var/lib/airlock\n", "policy.yaml": "rules: []\n",
	} {
		if err := os.WriteFile(filepath.Join(f.src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) hooks() Hooks {
	return Hooks{
		Settings: func(string) (Settings, error) {
			return Settings{StateDir: "/var/lib/airlock", CADir: "/var/lib/airlock/ca",
				PinDir: "/sys/fs/bpf/airlock", PolicyFile: "/etc/airlock/policy.yaml"}, nil
		},
		CreateCA: func(_ context.Context, dir string, _ []string) (bool, error) {
			f.calls = append(f.calls, "ca")
			if f.caErr != nil {
				return false, f.caErr
			}
			return true, os.WriteFile(filepath.Join(mustMkdir(dir), "ca.crt"), []byte("x"), 0o400)
		},
		InstallTrust:   func(context.Context, string, Settings) error { f.calls = append(f.calls, "trust"); return nil },
		UninstallTrust: func(context.Context, string, Settings) error { f.calls = append(f.calls, "untrust"); return nil },
		Unpin: func(_ context.Context, dir string) (bool, error) {
			f.calls = append(f.calls, "unpin")
			return true, os.RemoveAll(dir)
		},
		SelfTest: func(context.Context) (string, error) { f.calls = append(f.calls, "selftest"); return "ok", f.selfErr },
	}
}

func mustMkdir(dir string) string {
	_ = os.MkdirAll(dir, 0o700)
	return dir
}

func (f *fixture) config() Config {
	s := func(n string) string { return filepath.Join(f.src, n) }
	return Config{
		Root: f.root, Hooks: f.hooks(),
		Sources: Sources{CLI: s("airlock"), Daemon: s("airlockd"), Unit: s("airlockd.service"),
			ExampleConfig: s("airlock.yaml"), ExamplePolicy: s("policy.yaml")},
	}
}

func (f *fixture) uninstallConfig() UninstallConfig {
	return UninstallConfig{Root: f.root, Hooks: f.hooks(), PinDir: "/sys/fs/bpf/airlock"}
}

// tree lists every path under root.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel, _ := filepath.Rel(root, p); rel != "." {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInstallUninstallRoundTripLeavesNothing(t *testing.T) {
	f := newFixture(t)
	steps, err := Install(context.Background(), f.config())
	if err != nil {
		t.Fatalf("install: %v (steps %v)", err, steps)
	}
	for _, p := range []string{"usr/local/bin/airlock", "usr/local/bin/airlockd", "etc/airlock/airlock.yaml",
		"etc/airlock/policy.yaml", "etc/systemd/system/airlockd.service", "var/lib/airlock/ca/ca.crt",
		strings.TrimPrefix(ManifestPath, "/")} {
		if _, err := os.Stat(filepath.Join(f.root, p)); err != nil {
			t.Errorf("after install: %v", err)
		}
	}
	st, _ := os.Stat(filepath.Join(f.root, "var/lib/airlock"))
	if st.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode = %v, want 0700", st.Mode().Perm())
	}
	if !slices.Equal(f.calls, []string{"ca", "trust"}) {
		t.Errorf("hooks during install = %v (systemd and self-test must be skipped under --root)", f.calls)
	}
	if _, err := Uninstall(context.Background(), f.uninstallConfig()); err != nil {
		t.Fatalf("uninstall: %v", err)
	}
	if left := tree(t, f.root); len(left) != 0 {
		t.Errorf("uninstall left %v", left)
	}
	if !slices.Contains(f.calls, "untrust") {
		t.Errorf("uninstall did not undo trust: %v", f.calls)
	}
}

func TestInstallKeepsExistingConfigAndUninstallKeepsIt(t *testing.T) {
	f := newFixture(t)
	cfgPath := filepath.Join(f.root, "etc/airlock/airlock.yaml")
	mustMkdir(filepath.Dir(cfgPath))
	if err := os.WriteFile(cfgPath, []byte("operator: config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(context.Background(), f.config()); err != nil {
		t.Fatal(err)
	}
	if _, err := Uninstall(context.Background(), f.uninstallConfig()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(cfgPath)
	if err != nil || string(got) != "operator: config\n" {
		t.Fatalf("pre-existing config = %q, %v; want it untouched", got, err)
	}
	if left := tree(t, f.root); !slices.Equal(left, []string{"etc", "etc/airlock", "etc/airlock/airlock.yaml"}) {
		t.Errorf("uninstall left %v, want only the operator's config", left)
	}
}

func TestUninstallKeepsEditedConfigUnlessPurge(t *testing.T) {
	for _, purge := range []bool{false, true} {
		f := newFixture(t)
		if _, err := Install(context.Background(), f.config()); err != nil {
			t.Fatal(err)
		}
		cfgPath := filepath.Join(f.root, "etc/airlock/airlock.yaml")
		if err := os.WriteFile(cfgPath, []byte("edited\n"), 0o640); err != nil {
			t.Fatal(err)
		}
		u := f.uninstallConfig()
		u.Purge = purge
		steps, err := Uninstall(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		_, statErr := os.Stat(cfgPath)
		if purge != errors.Is(statErr, fs.ErrNotExist) {
			t.Errorf("purge=%v: config exists=%v; steps %v", purge, statErr == nil, steps)
		}
	}
}

func TestInstallFailureRollsBack(t *testing.T) {
	f := newFixture(t)
	f.caErr = errors.New("disk full")
	_, err := Install(context.Background(), f.config())
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("install error = %v, want the CA failure", err)
	}
	if left := tree(t, f.root); len(left) != 0 {
		t.Errorf("failed install left %v", left)
	}
}

func TestUninstallKeepState(t *testing.T) {
	f := newFixture(t)
	if _, err := Install(context.Background(), f.config()); err != nil {
		t.Fatal(err)
	}
	u := f.uninstallConfig()
	u.KeepState = true
	if _, err := Uninstall(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(f.root, "var/lib/airlock/ca/ca.crt")); err != nil {
		t.Errorf("--keep-state removed the CA: %v", err)
	}
	if _, err := os.Stat(filepath.Join(f.root, ManifestPath)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("manifest left behind: %v", err)
	}
}

func TestUninstallWithoutManifestStillUnpins(t *testing.T) {
	f := newFixture(t)
	pins := filepath.Join(f.root, "sys/fs/bpf/airlock")
	mustMkdir(pins)
	_, err := Uninstall(context.Background(), f.uninstallConfig())
	if !errors.Is(err, ErrNoManifest) {
		t.Fatalf("err = %v, want ErrNoManifest", err)
	}
	if _, err := os.Stat(pins); !errors.Is(err, fs.ErrNotExist) || !slices.Contains(f.calls, "unpin") {
		t.Errorf("pins of a crashed daemon not removed (calls %v, stat %v)", f.calls, err)
	}
}

// A second install (an upgrade) must not make uninstall forget the first.
func TestReinstallExtendsTheManifest(t *testing.T) {
	f := newFixture(t)
	if _, err := Install(context.Background(), f.config()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.src, "airlockd"), []byte("daemon-binary-v2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(context.Background(), f.config()); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(f.root, "usr/local/bin/airlockd"))
	if string(got) != "daemon-binary-v2" {
		t.Fatalf("upgrade did not replace the daemon: %q", got)
	}
	if _, err := Uninstall(context.Background(), f.uninstallConfig()); err != nil {
		t.Fatal(err)
	}
	if left := tree(t, f.root); len(left) != 0 {
		t.Errorf("uninstall after a reinstall left %v", left)
	}
}

// A failed reinstall rolls back only its own changes.
func TestFailedReinstallKeepsTheFirstInstall(t *testing.T) {
	f := newFixture(t)
	if _, err := Install(context.Background(), f.config()); err != nil {
		t.Fatal(err)
	}
	cfg := f.config()
	cfg.Hooks.InstallTrust = func(context.Context, string, Settings) error { return errors.New("store is read-only") }
	if _, err := Install(context.Background(), cfg); err == nil {
		t.Fatal("reinstall with a failing trust step succeeded")
	}
	if _, err := os.Stat(filepath.Join(f.root, "usr/local/bin/airlock")); err != nil {
		t.Fatalf("the failed reinstall removed the first install: %v", err)
	}
	if _, err := Uninstall(context.Background(), f.uninstallConfig()); err != nil {
		t.Fatal(err)
	}
	if left := tree(t, f.root); len(left) != 0 {
		t.Errorf("uninstall left %v", left)
	}
}
