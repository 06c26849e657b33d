package cli

import (
	"strings"
	"testing"
)

func TestPolicyCheckGoodAndExamplePolicy(t *testing.T) {
	for _, path := range []string{"testdata/good-policy.yaml", repoFile("deploy", "policy.yaml")} {
		r := run(t, "", "policy", "check", path)
		if r.code != 0 || !strings.Contains(r.out, path+": ok") {
			t.Errorf("%s: code %d out %q err %q", path, r.code, r.out, r.err)
		}
	}
}

func TestPolicyCheckReportsLineColumnAndExpression(t *testing.T) {
	r := run(t, "", "policy", "check", "testdata/bad-policy.yaml")
	r.wantOneLineError(t, ExitFailure, "2 problem(s)")
	for _, want := range []string{
		"testdata/bad-policy.yaml:6:17: rule \"typo\": when: undefined field 'usr'",
		`    when: caller.usr == "alice"`,
		"testdata/bad-policy.yaml:10:13:",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	lines := strings.Split(r.out, "\n")
	for i, l := range lines {
		if strings.Contains(l, "caller.usr") && (i+1 >= len(lines) || strings.Index(lines[i+1], "^") != strings.Index(l, ".usr")) {
			t.Errorf("caret does not point at the offending field:\n%s\n%s", l, lines[i+1])
		}
	}
}

func TestPolicyCheckJSON(t *testing.T) {
	r := run(t, "", "--json", "policy", "check", "testdata/bad-policy.yaml")
	var got struct {
		OK       bool
		Problems []struct {
			Line, Column int
			Message      string
			Source       string
		}
	}
	r.decodeJSON(t, &got)
	if r.code != ExitFailure || got.OK || len(got.Problems) != 2 || got.Problems[0].Line != 6 || got.Problems[0].Source == "" {
		t.Errorf("code %d, parsed %+v", r.code, got)
	}
}

func TestPolicyCheckMissingFile(t *testing.T) {
	r := run(t, "", "policy", "check", "testdata/nonexistent.yaml")
	if r.code != ExitFailure || !strings.Contains(r.out+r.err, "nonexistent.yaml") {
		t.Errorf("code %d out %q err %q", r.code, r.out, r.err)
	}
}

func TestPolicyTestDecisions(t *testing.T) {
	pol := "testdata/good-policy.yaml"
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"embedded admin key", []string{"--embedded", "admin_key"}, []string{"action:", "deny", "no-admin-keys", "403 permission_error"}},
		{"sample file, cap by model", []string{"--sample", "testdata/sample-ci.json"}, []string{"deny", "ci-small-model", "claude-haiku-*"}},
		{"flags override sample", []string{"--sample", "testdata/sample-ci.json", "--unit", "cron.service"}, []string{"allow", "default"}},
		{"tools", []string{"--tool", "bash", "--tool", "read"}, []string{"require_approval", "risky-tools", "shell access needs a human"}},
		{"default", []string{"--uid", "1000"}, []string{"allow", "everyone else"}},
	}
	for _, c := range cases {
		r := run(t, "", append([]string{"policy", "test", "--policy", pol}, c.args...)...)
		if r.code != 0 {
			t.Errorf("%s: code %d, err %q", c.name, r.code, r.err)
		}
		for _, w := range c.want {
			if !strings.Contains(r.out, w) {
				t.Errorf("%s: output lacks %q:\n%s", c.name, w, r.out)
			}
		}
	}
}

func TestPolicyTestSampleFromStdinJSONAndExpect(t *testing.T) {
	sample := `{"caller": {"uid": 1000}, "embedded": "admin_key"}`
	r := run(t, sample, "--json", "policy", "test", "--policy", "testdata/good-policy.yaml", "--sample", "-", "--expect", "deny")
	var d struct{ Action, Rule string }
	r.decodeJSON(t, &d)
	if r.code != 0 || d.Action != "deny" || d.Rule != "no-admin-keys" {
		t.Errorf("code %d, decision %+v, err %q", r.code, d, r.err)
	}
	r = run(t, sample, "policy", "test", "--policy", "testdata/good-policy.yaml", "--sample", "-", "--expect", "allow")
	r.wantOneLineError(t, ExitFailure, "decision is deny (rule no-admin-keys), expected allow")
}

func TestPolicyTestBadInput(t *testing.T) {
	r := run(t, "{not json", "policy", "test", "--policy", "testdata/good-policy.yaml", "--sample", "-")
	r.wantOneLineError(t, ExitFailure, "reading sample -")
	r = run(t, "", "policy", "test", "--policy", "testdata/good-policy.yaml", "--time", "yesterday")
	r.wantOneLineError(t, ExitUsage, "invalid --time")
	r = run(t, "", "policy", "test", "--policy", "testdata/good-policy.yaml", "--sample", "testdata/sample-ci.json", "--model", "x")
	r.wantOneLineError(t, ExitUsage, "cannot be combined with a request body")
	r = run(t, "", "policy", "test", "--policy", "testdata/bad-policy.yaml")
	if r.code != ExitFailure || !strings.Contains(r.out, "bad-policy.yaml:6:17") {
		t.Errorf("an invalid policy must be reported with positions: code %d out %q", r.code, r.out)
	}
}

func TestPolicyFileFromConfig(t *testing.T) {
	cfg, _ := testConfig(t, "policy: {file: testdata/good-policy.yaml}\n")
	if r := run(t, "", "--config", cfg, "policy", "check"); r.code != 0 || !strings.Contains(r.out, "good-policy.yaml: ok") {
		t.Errorf("check without FILE: code %d out %q err %q", r.code, r.out, r.err)
	}
	run(t, "", "--config", "testdata/nonexistent.yaml", "policy", "check").wantOneLineError(t, ExitUsage, "no policy file given")
	empty, _ := testConfig(t, "")
	run(t, "", "--config", empty, "policy", "test").wantOneLineError(t, ExitUsage, "sets no policy file")
}

// The example policy's action rules, exercised offline as an operator would.
func TestPolicyTestActions(t *testing.T) {
	pol := repoFile("deploy", "policy.yaml")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--action-tool", "Bash", "--action-input", `{"command":"rm -rf build"}`}, "require_approval"},
		{[]string{"--action-tool", "Bash", "--action-input", `{"command":"echo hi"}`}, "allow"},
		{[]string{"--cwd", "/home/a/app", "--action-tool", "Write", "--action-input", `{"file_path":"/etc/cron.d/x"}`}, "deny"},
		{[]string{"--cwd", "/home/a/app", "--action-tool", "Write", "--action-input", `{"file_path":"/home/a/app/x"}`}, "allow"},
	} {
		r := run(t, "", append([]string{"--json", "policy", "test", "--policy", pol, "--uid", "1000", "--expect", c.want}, c.args...)...)
		if r.code != 0 {
			t.Errorf("%v: code %d out %q err %q", c.args, r.code, r.out, r.err)
		}
	}
	r := run(t, "", "policy", "test", "--policy", pol, "--action-tool", "Bash", "--action-input", "[1]")
	r.wantOneLineError(t, ExitUsage, "--action-input")
}
