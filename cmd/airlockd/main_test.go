package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/internal/config"
	"github.com/airlock-dev/airlock/internal/daemon"
)

func TestLogFormat(t *testing.T) {
	var buf bytes.Buffer // not a terminal
	for _, tc := range []struct {
		format, env string
		json        bool
	}{{"json", "", true}, {"console", "", false}, {"auto", "", true}, {"auto", "INVOCATION_ID", true}} {
		if tc.env != "" {
			t.Setenv(tc.env, "x")
		}
		if got := useJSON(tc.format, &buf); got != tc.json {
			t.Errorf("useJSON(%q, env %q) = %v", tc.format, tc.env, got)
		}
	}
	log, _, err := newLogger(config.Log{Level: "warn", Format: "json"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown")
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, `"msg":"shown"`) {
		t.Fatalf("log output %q", out)
	}
}

func TestInvalidConfigExitsWithEveryProblem(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "airlock.yaml")
	os.WriteFile(cfg, []byte("log: {level: loud}\ncapture: {fail_mode: sideways}\n"), 0o644)
	var stderr bytes.Buffer
	code := run([]string{"--config", cfg}, &stderr)
	out := stderr.String()
	if code != exitConfig {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{"  - log.level: ", "  - capture.fail_mode: ", "  - credentials: "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestOneLine(t *testing.T) {
	err := fmt.Errorf("starting: %w", &daemon.StartupError{What: "policy /p is invalid", Fix: "run airlock policy check", Err: errors.New("line 1:1: x\nline 2:2: y")})
	if got := oneLine(err); strings.Contains(got, "\n") || got != "policy /p is invalid: line 1:1: x; line 2:2: y (fix: run airlock policy check)" {
		t.Fatalf("oneLine = %q", got)
	}
}

func TestCheckValidatesThePolicyFile(t *testing.T) {
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	os.WriteFile(pol, []byte("rules: [{id: r, when: 'caller.uid ==', action: allow}]\n"), 0o644)
	cfg := filepath.Join(dir, "airlock.yaml")
	os.WriteFile(cfg, []byte("credentials: [{name: d, env: K}]\npolicy: {file: "+pol+"}\n"), 0o644)
	var stderr bytes.Buffer
	if code := run([]string{"--config", cfg, "--check"}, &stderr); code != exitConfig || !strings.Contains(stderr.String(), "  - line 1:") {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
}

func TestCheckCompilesAnInlinePolicy(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "airlock.yaml")
	os.WriteFile(cfg, []byte("credentials: [{name: d, env: K}]\npolicy:\n  rules:\n    - {id: r, when: 'caller.nope == 1', action: allow}\n"), 0o644)
	var stderr bytes.Buffer
	if code := run([]string{"--config", cfg, "--check"}, &stderr); code != exitConfig || !strings.Contains(stderr.String(), "  - line 4:") {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
}
