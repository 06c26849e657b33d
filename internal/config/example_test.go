package config

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/airlock-dev/airlock/policy"
)

// The files in deploy/ are what operators copy: they must load through the
// real loader and the real policy compiler, so they cannot rot.
const deployDir = "../../deploy"

func TestExampleConfigLoads(t *testing.T) {
	c, err := Load(Source{File: filepath.Join(deployDir, "airlock.yaml"), ConfDir: t.TempDir()})
	if err != nil {
		t.Fatalf("deploy/airlock.yaml: %v", err)
	}
	if c.Credentials[0].Systemd != "anthropic-api-key" || c.Policy.File != "/etc/airlock/policy.yaml" {
		t.Errorf("example drifted from the unit and installer: credentials=%+v policy=%q", c.Credentials, c.Policy.File)
	}
}

func TestExamplePolicyCompiles(t *testing.T) {
	for _, f := range []string{filepath.Join(deployDir, "policy.yaml")} {
		if ps := policy.CheckFile(f); len(ps) > 0 {
			t.Errorf("%s:\n%v", f, policy.Problems(ps))
		}
	}
}

func TestDaemonSetConfigMapLoads(t *testing.T) {
	data := configMapData(t, filepath.Join(deployDir, "kubernetes", "daemonset.yaml"))
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "airlock.yaml")
	if err := os.WriteFile(cfgFile, []byte(data["airlock.yaml"]), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(Source{File: cfgFile}); err != nil {
		t.Errorf("daemonset ConfigMap airlock.yaml: %v", err)
	}
	if ps := policy.Check([]byte(data["policy.yaml"])); len(ps) > 0 {
		t.Errorf("daemonset ConfigMap policy.yaml:\n%v", policy.Problems(ps))
	}
}

func TestUnitMatchesConfig(t *testing.T) {
	unit, err := os.ReadFile(filepath.Join(deployDir, "airlockd.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Type=notify", "LoadCredential=anthropic-api-key:", "StateDirectory=airlock",
		"RuntimeDirectory=airlock", "ProtectSystem=strict", "CapabilityBoundingSet=", "ExecReload=/bin/sh -c 'kill -HUP $$MAINPID'"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("deploy/airlockd.service lacks %q", want)
		}
	}
}

// configMapData returns the data of the first ConfigMap in a multi-document file.
func configMapData(t *testing.T, path string) map[string]string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var doc struct {
			Kind string            `yaml:"kind"`
			Data map[string]string `yaml:"data"`
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			t.Fatalf("%s has no ConfigMap", path)
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if doc.Kind == "ConfigMap" {
			return doc.Data
		}
	}
}
