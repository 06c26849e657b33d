package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// result is one in-process run of the tool.
type result struct {
	out, err string
	code     int
}

func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return result{out.String(), errb.String(), code}
}

// decodeJSON fails the test unless r's stdout is one JSON document.
func (r result) decodeJSON(t *testing.T, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.out))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, r.out)
	}
	if dec.More() {
		t.Fatalf("--json output holds more than one document:\n%s", r.out)
	}
}

// wantOneLineError checks the error contract: one line on stderr with the fix.
func (r result) wantOneLineError(t *testing.T, code int, contains ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code = %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.out, r.err)
	}
	msg := strings.TrimSuffix(r.err, "\n")
	if strings.Count(msg, "\n") != 0 || !strings.HasPrefix(msg, "airlock: ") || !strings.Contains(msg, "fix: ") {
		t.Errorf("stderr is not one 'airlock: ... fix: ...' line: %q", r.err)
	}
	for _, c := range contains {
		if !strings.Contains(msg, c) {
			t.Errorf("stderr %q does not mention %q", msg, c)
		}
	}
}

// testConfig writes a daemon configuration whose paths live in a temp dir and
// returns its path and the state dir.
func testConfig(t *testing.T, extra string) (cfgPath, stateDir string) {
	t.Helper()
	dir := t.TempDir()
	stateDir = filepath.Join(dir, "state")
	cfg := "state_dir: " + stateDir + "\nruntime_dir: " + filepath.Join(dir, "run") + "\n" +
		"credentials:\n  - {name: default, kind: api_key, env: AIRLOCK_TEST_FAKE_KEY}\n" +
		"capture:\n  pin_dir: " + filepath.Join(dir, "pins") + "\n  targets: [127.0.100.0/24]\n" +
		"  hosts: []\n  api_hosts: [api.anthropic.com]\n" + extra
	cfgPath = filepath.Join(dir, "airlock.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, stateDir
}

// repoFile is a path in the repository, from this package's directory.
func repoFile(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "..", ".."}, parts...)...)
}
