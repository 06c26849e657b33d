package installer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeSystemd pretends systemd is PID 1 and records systemctl calls into the
// fixture's call log, so the order against the other hooks is visible.
func fakeSystemd(t *testing.T, f *fixture) *Systemd {
	booted := t.TempDir()
	return &Systemd{BootedPath: booted, Run: func(_ context.Context, args ...string) error {
		f.calls = append(f.calls, "systemctl "+strings.Join(args, " "))
		return nil
	}}
}

func TestSystemdSequenceAndSelfTest(t *testing.T) {
	f := newFixture(t)
	cfg := f.config()
	cfg.Systemd = fakeSystemd(t, f)
	mustMkdir(filepath.Join(f.root, "sys/fs/bpf/airlock")) // what the started daemon would pin
	if _, err := Install(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	want := []string{"ca", "trust", "systemctl daemon-reload", "systemctl enable airlockd.service",
		"systemctl start airlockd.service", "selftest"}
	if !slices.Equal(f.calls, want) {
		t.Fatalf("install calls = %q, want %q", f.calls, want)
	}
	f.calls = nil
	u := f.uninstallConfig()
	u.Systemd = cfg.Systemd
	if _, err := Uninstall(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	want = []string{"systemctl stop airlockd.service", "systemctl disable airlockd.service", "unpin",
		"systemctl daemon-reload", "untrust"}
	if !slices.Equal(f.calls, want) {
		t.Errorf("uninstall calls = %q, want %q (stop before unpin, reload after the unit is gone)", f.calls, want)
	}
	if left := tree(t, f.root); !slices.Equal(left, []string{"sys", "sys/fs", "sys/fs/bpf"}) {
		t.Errorf("uninstall left %v, want only the bpffs parents the test made", left)
	}
}

func TestSelfTestFailureKeepsInstallForUninstall(t *testing.T) {
	f := newFixture(t)
	f.selfErr = errors.New("no answer through the interceptor")
	cfg := f.config()
	cfg.Systemd = fakeSystemd(t, f)
	_, err := Install(context.Background(), cfg)
	if !errors.Is(err, ErrStartFailed) {
		t.Fatalf("err = %v, want ErrStartFailed", err)
	}
	if _, err := os.Stat(filepath.Join(f.root, ManifestPath)); err != nil {
		t.Fatalf("manifest missing after a failed self-test: %v", err)
	}
	u := f.uninstallConfig()
	u.Systemd = cfg.Systemd
	if _, err := Uninstall(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if left := tree(t, f.root); len(left) != 0 {
		t.Errorf("uninstall left %v", left)
	}
}

func TestSystemdUnavailableReasons(t *testing.T) {
	if why := (&Systemd{Root: "/tmp/x"}).Unavailable(); !strings.Contains(why, "--root") {
		t.Errorf("root prefix: %q", why)
	}
	if why := (&Systemd{BootedPath: "/nonexistent/airlock"}).Unavailable(); !strings.Contains(why, "not PID 1") {
		t.Errorf("no systemd: %q", why)
	}
}

// Installing a newer build over a running one restarts the unit (start
// would leave the old binary running); installing the same build again
// changes nothing and only starts (a no-op for a running unit).
func TestUpgradeRestartsRepairStarts(t *testing.T) {
	f := newFixture(t)
	cfg := f.config()
	cfg.Systemd = fakeSystemd(t, f)
	mustMkdir(filepath.Join(f.root, "sys/fs/bpf/airlock"))
	for _, run := range []struct{ daemon, verb string }{
		{"daemon-binary", "start"}, {"daemon-binary", "start"}, {"daemon-binary-v2", "restart"},
	} {
		if err := os.WriteFile(cfg.Sources.Daemon, []byte(run.daemon), 0o755); err != nil {
			t.Fatal(err)
		}
		f.calls = nil
		if _, err := Install(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(f.calls, "systemctl "+run.verb+" airlockd.service") {
			t.Errorf("installing %s: calls %q, want %s", run.daemon, f.calls, run.verb)
		}
	}
}
