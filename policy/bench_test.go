package policy

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/caller"
)

// realisticPolicy has 20 rules of the kinds an operator writes: denials by
// program and user, model and tool rules, caps, limits and budgets; the
// benchmark request matches rule 19 so every condition is evaluated.
func realisticPolicy() []byte {
	var b strings.Builder
	b.WriteString("rules:\n")
	conds := []string{
		`caller.user == "nobody"`, `embedded.class == "admin_key"`, `caller.exe.startsWith("/tmp/")`,
		`caller.container.id != "" && caller.unit == ""`, `"bash" in request.tools && caller.uid >= 1000`,
		`request.model.startsWith("claude-opus") && caller.user != "research"`, `request.body_size > 10000000`,
		`"files-api-2025-04-14" in request.betas`, `caller.unit == "ci-runner.service"`, `caller.comm == "curl"`,
		`request.path.startsWith("/v1/files")`, `findings.exists(k, findings[k] > 0) && caller.uid == 0`,
		`caller.cgroup.contains("/docker/")`, `request.stream && request.max_tokens > 64000`,
		`time.getHours("UTC") < 5 && caller.uid >= 1000`, `caller.exe.endsWith("/python3") && caller.uid == 1001`,
		`request.method == "DELETE"`, `caller.user in ["alice", "bob", "carol"] && request.model.startsWith("claude-haiku")`,
		`caller.exe.endsWith("/node") && request.model.startsWith("claude-sonnet")`, `true`,
	}
	for i, c := range conds {
		fmt.Fprintf(&b, "  - id: r%d\n    when: '%s'\n    action: %s\n", i+1, c, map[bool]string{true: "allow", false: "deny"}[i >= 17])
		if i == 18 {
			b.WriteString("    max_tokens: 8192\n    models: [\"claude-sonnet-*\", \"claude-haiku-*\"]\n" +
				"    rate_limit: {requests: 1000000000, tokens: 1000000000000, window: 1m}\n    budget: {daily_tokens: 1000000000000}\n")
		}
	}
	return []byte(b.String())
}

// The realistic policy reads the clock (rule 15), so every request
// evaluates every condition.
func BenchmarkDecide20Rules(b *testing.B) { benchDecide(b, realisticPolicy()) }

// Without the clock, the engine remembers the match (memo.go): only the key
// is built and the matched rule's caps and limits applied.
func BenchmarkDecide20RulesRemembered(b *testing.B) {
	benchDecide(b, []byte(strings.Replace(string(realisticPolicy()), `time.getHours("UTC") < 5`, `caller.uid == 7`, 1)))
}

func benchDecide(b *testing.B, policy []byte) {
	e, err := Compile(policy, Options{})
	if err != nil {
		b.Fatal(err)
	}
	in := &Input{
		Caller:   caller.Process{PID: 4242, UID: 1000, User: "dev", Exe: "/usr/bin/node", Comm: "node", Cgroup: "/user.slice/user-1000.slice"},
		Request:  Request{Method: "POST", Path: "/v1/messages", Model: "claude-sonnet-4-5", MaxTokens: 4096, Stream: true, Tools: []string{"read_file", "edit"}, Betas: []string{"interleaved-thinking-2025-05-14"}, BodySize: 52000, BodyParsed: true},
		Embedded: "api_key",
		Time:     time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC),
	}
	if d := e.Decide(in); d.Rule != "r19" || d.Action != Allow {
		b.Fatalf("benchmark request decided by %s (%s): %v", d.Rule, d.Action, d.Err())
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Decide(in)
	}
}
