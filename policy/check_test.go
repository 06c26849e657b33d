package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckFileAndEvaluateFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("policy:\n  rules:\n    - id: a\n      when: caller.uid == 0\n      action: allow\n"), 0o600)
	os.WriteFile(bad, []byte("rules:\n  - id: a\n    when: caller.uid ==\n    action: allow\n"), 0o600)
	if ps := CheckFile(good); len(ps) != 0 {
		t.Errorf("good policy: %v", ps)
	}
	ps := CheckFile(bad)
	if len(ps) != 1 || ps[0].Line != 3 || !strings.Contains(ps[0].Message, "Syntax error") {
		t.Errorf("bad policy: %v", ps)
	}
	if ps := CheckFile(filepath.Join(dir, "missing")); len(ps) != 1 {
		t.Errorf("missing file: %v", ps)
	}
	d, err := EvaluateFile(good, []byte(`{"caller":{"uid":0}}`))
	if err != nil || d.Action != Allow || d.Rule != "a" {
		t.Errorf("%+v %v", d, err)
	}
	d, _ = EvaluateFile(good, []byte(`{"caller":{"uid":1}}`))
	if d.Rule != "default" || d.Denial == nil {
		t.Errorf("%+v", d)
	}
	if _, err := EvaluateFile(good, []byte(`{`)); err == nil {
		t.Error("bad sample accepted")
	}
}
