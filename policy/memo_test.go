package policy

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/caller"
)

// memoPolicy reads a field of every kind: strings, numbers, lists (through a
// comprehension), a nested struct through has(), findings by presence and
// by count, a body field, and the credential class.
const memoPolicy = `rules:
  - id: admin-key
    when: embedded.class == "admin_key"
    action: deny
  - id: ci
    when: caller.unit.startsWith("gitlab-runner") || caller.user == "ci"
    action: allow
  - id: private-key
    when: "'private_key' in findings && findings['private_key'] > 0"
    action: require_approval
  - id: custom-present
    when: "'custom_x' in findings"
    action: deny
  - id: bash-tool
    when: request.tools.exists(t, t == "bash") && caller.uid >= 1000
    action: deny
  - id: evil-container
    when: has(caller.container.name) && caller.container.name == "evil"
    action: deny
  - id: opus-batch
    when: request.model.startsWith("claude-opus") && caller.comm == "batch"
    action: deny
  - id: beta
    when: '"x-beta" in request.betas'
    action: allow
    reason: beta users
default:
  action: allow
`

func pick[T any](r *rand.Rand, v ...T) T { return v[r.IntN(len(v))] }

func randomInput(r *rand.Rand) *Input {
	in := &Input{
		Caller: caller.Process{UID: pick[uint32](r, 0, 999, 1000, 1001), User: pick(r, "", "ci", "bob"),
			Unit: pick(r, "", "gitlab-runner-3.service", "app.service"), Comm: pick(r, "batch", "curl", ""),
			ContainerName: pick(r, "", "evil", "good"), PID: r.IntN(1 << 20), Exe: pick(r, "/bin/a", "/bin/b")},
		Request: Request{Method: "POST", Path: "/v1/messages", Model: pick(r, "", "claude-opus-4", "claude-haiku"),
			Tools: pick(r, nil, []string{"bash"}, []string{"ba", "sh"}, []string{"read", "bash"}),
			Betas: pick(r, nil, []string{"x-beta"}, []string{"x-beta-2"}), BodySize: r.Int64N(1 << 20),
			BodyParsed: r.IntN(4) > 0},
		Embedded: pick(r, "none", "api_key", "admin_key"),
		Time:     time.Unix(r.Int64N(1<<31), 0),
	}
	in.Findings = pick(r, nil, map[string]int{"private_key": 1}, map[string]int{"private_key": 0},
		map[string]int{"custom_x": 0}, map[string]int{"email": 2, "private_key": 3})
	return in
}

// A remembered match decides exactly as evaluating the conditions does,
// whatever the order inputs arrive in.
func TestMemoDecidesAsEvaluationDoes(t *testing.T) {
	memoised, err := Compile([]byte(memoPolicy), Options{Detectors: []string{"other"}})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := Compile([]byte(memoPolicy), Options{Detectors: []string{"other"}})
	if memoised.memo == nil {
		t.Fatal("a policy that reads only fields has no memo")
	}
	plain.memo = nil
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for range 20000 {
		in := randomInput(r)
		got, want := memoised.Decide(in), plain.Decide(in)
		if got.Action != want.Action || got.Rule != want.Rule || got.Reason != want.Reason || got.Err() != nil != (want.Err() != nil) {
			t.Fatalf("input %+v: memo says %s/%s, evaluation %s/%s", in, got.Action, got.Rule, want.Action, want.Rule)
		}
		if got.Err() != nil && got.Err().Error() != want.Err().Error() {
			t.Fatalf("input %+v: memo's denial %q, evaluation's %q", in, got.Err(), want.Err())
		}
		seen[got.Rule] = true
	}
	for _, id := range []string{"admin-key", "ci", "private-key", "custom-present", "bash-tool", "evil-container", "opus-batch", "beta", "default"} {
		if !seen[id] {
			t.Errorf("no input reached rule %s: the test does not exercise it", id)
		}
	}
	if n := memoised.memo.table.Load().n.Load(); n == 0 || n > 5000 {
		t.Errorf("%d combinations remembered for 20000 requests", n)
	}
}

// The memo holds only what the conditions read: a process, a body size or
// a clock that changes does not make a new entry.
func TestMemoKeysOnlyWhatRulesRead(t *testing.T) {
	e, err := Compile([]byte(memoPolicy), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		e.Decide(&Input{Caller: caller.Process{PID: i, UID: 1000, Cwd: "/tmp"}, Request: Request{BodySize: int64(i), BodyParsed: true},
			Time: time.Unix(int64(i), 0)})
	}
	if n := e.memo.table.Load().n.Load(); n != 1 {
		t.Errorf("%d entries for one kind of request", n)
	}
}

// Conditions that read the clock, or use a variable whole, are evaluated
// every time.
func TestMemoOffUnlessConditionsReadFields(t *testing.T) {
	for _, when := range []string{
		`time.getHours() < 25`,
		`request.tools.exists(caller, caller == "bash")`,
		`caller == caller`,
	} {
		e, err := Compile([]byte("rules:\n  - id: r\n    when: '"+when+"'\n    action: allow\n"), Options{})
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if e.memo != nil {
			t.Errorf("%s: memoised", when)
		}
	}
	e, err := Compile([]byte("rules:\n  - id: night\n    when: time.getHours() >= 22\n    action: deny\ndefault:\n  action: allow\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	night, day := time.Date(2026, 1, 1, 23, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	if e.Decide(&Input{Time: night}).Rule != "night" || e.Decide(&Input{Time: day}).Rule != "default" {
		t.Error("a rule on the clock decided by an earlier hour")
	}
}

// A hostile program that cycles through values (a new model name per
// request) costs itself evaluations: the memo stays bounded and right.
func TestMemoStaysBounded(t *testing.T) {
	e, err := Compile([]byte(memoPolicy), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 * memoEntries {
		model := "claude-opus-" + string(rune('a'+i%26)) + time.Duration(i).String()
		d := e.Decide(&Input{Caller: caller.Process{Comm: "batch"}, Request: Request{Model: model, BodyParsed: true}})
		if d.Rule != "opus-batch" {
			t.Fatalf("request %d decided by %s", i, d.Rule)
		}
		if n := e.memo.table.Load().n.Load(); n > memoEntries+1 {
			t.Fatalf("%d entries", n)
		}
	}
}
