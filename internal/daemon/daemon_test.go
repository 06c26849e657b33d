package daemon

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/internal/config"
)

func TestLockIsExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "airlockd.lock")
	first, err := acquireLock(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = acquireLock(path)
	if !errors.Is(err, errAlreadyRunning) || !strings.Contains(err.Error(), "held by pid") {
		t.Fatalf("second lock: %v", err)
	}
	first.Close()
	again, err := acquireLock(path)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again.Close()
}

func TestInstallKeyIsStableAndPrivate(t *testing.T) {
	dir := t.TempDir()
	a, err := installKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := installKey(dir)
	if err != nil || !bytes.Equal(a, b) || len(a) != 32 {
		t.Fatalf("second read %x (%v), first %x", b, err, a)
	}
	fi, err := os.Stat(filepath.Join(dir, "install.key"))
	if err != nil || fi.Mode().Perm() != 0o400 {
		t.Fatalf("install.key mode %v (%v)", fi.Mode(), err)
	}
}

func TestStartupErrorIsOneLine(t *testing.T) {
	err := fail("policy /p is invalid", "run airlock policy check", errors.New("line 1:1: x\nline 2:2: y"))
	if got := err.Error(); got != "policy /p is invalid: line 1:1: x; line 2:2: y (fix: run airlock policy check)" {
		t.Fatalf("StartupError = %q", got)
	}
	if got := policyErr(errors.New("a\nb")).Error(); got != "a b" {
		t.Fatalf("policyErr = %q", got)
	}
}

// TestCaptureConfigCarriesTheNamespaceBound: the configured bound reaches
// capture, rather than capture's own default.
func TestCaptureConfigCarriesTheNamespaceBound(t *testing.T) {
	c := config.Capture{ListenV4: "127.0.0.1:15443", Targets: []string{"127.0.100.0/24"}, Ports: []int{443},
		Containers: config.Containers{MaxNamespaces: 7}}
	if got := captureConfig(c).WithDefaults().MaxNamespaces; got != 7 {
		t.Errorf("MaxNamespaces = %d, want 7", got)
	}
}
