package e2e

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/airlock-dev/airlock/internal/config"
	"github.com/airlock-dev/airlock/tlsmitm"
)

// Trust provisioning (update-ca-certificates, the Java keystore) takes
// seconds, so the harness pays it once per test binary: one CA, trusted
// through `airlock trust install` in a sandbox layer that every client run
// starts from; each daemon gets a copy of that CA in its state directory.
// Options.OwnCA gives a test its own CA and layer instead.
var shared struct {
	once         sync.Once
	caDir, layer string
	err          error
}

// sharedTrust returns the shared CA directory and sandbox layer.
func sharedTrust(t testing.TB) (caDir, layer string) {
	t.Helper()
	shared.once.Do(func() {
		dir := filepath.Join(bins.Dir, "shared-trust")
		shared.caDir = filepath.Join(dir, "state", "ca")
		shared.layer, shared.err = prepareLayer(dir, filepath.Join(dir, "state"))
	})
	if shared.err != nil {
		t.Fatalf("preparing the shared trust layer: %v", shared.err)
	}
	return shared.caDir, shared.layer
}

// prepareLayer writes a config whose state_dir is stateDir and runs
// `airlock trust install` for it in a sandbox layer, returned for --layer.
func prepareLayer(dir, stateDir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	// The CA airlockd would create on first start, made here in-process.
	if _, err := tlsmitm.LoadOrCreateCA(tlsmitm.CAConfig{Dir: filepath.Join(stateDir, "ca"), Hosts: []string{APIHost}}, nil); err != nil {
		return "", err
	}
	cfg := filepath.Join(dir, "trust.yaml")
	c := config.Default()
	c.StateDir, c.Capture.APIHosts = stateDir, []string{APIHost}
	c.Credentials = []config.Credential{{Name: "default", Env: "UNUSED"}}
	body, err := c.YAML()
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(cfg, body, 0o644); err != nil {
		return "", err
	}
	return layerFor(dir, cfg)
}

// layerFor prepares a sandbox layer trusting the CA of the config at cfg.
func layerFor(dir, cfg string) (string, error) {
	layer := filepath.Join(dir, "layer")
	trust := shellQuote(bins.Airlock) + " --config " + shellQuote(cfg) + " trust install"
	cmd := exec.Command(bins.Sandbox, "--prepare", layer, "--host", TargetAddr+" "+APIHost, "--trust-cmd", trust)
	cmd.Env = cleanEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s: %w\n%s", trust, err, out)
	}
	return layer, nil
}

// copyCA copies a CA directory, keeping its modes (the key stays 0400).
func copyCA(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, info.Mode().Perm())
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
}
