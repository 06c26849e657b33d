package policy

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/caller"
)

func TestCurrentReloadKeepsPreviousOnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("rules:\n  - id: one\n    when: 'true'\n    action: allow\n")
	c, err := NewCurrent(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := &Input{Caller: caller.Process{UID: 1}}
	write("rules:\n  - id: two\n    when: 'caller.nope'\n    action: allow\n")
	err = c.Reload()
	if err == nil || !strings.Contains(err.Error(), "3:18") || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("reload error %v", err)
	}
	if d := c.Engine().Decide(in); d.Rule != "one" {
		t.Errorf("after a bad reload the rule is %q", d.Rule)
	}
	write("rules:\n  - id: three\n    when: 'true'\n    action: deny\n")
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	if d := c.Engine().Decide(in); d.Rule != "three" || d.Err() == nil {
		t.Errorf("after a good reload: %+v", d)
	}
}

// Limit state survives a reload, so reloading cannot reset a caller's allowance.
func TestLimitStateCarriesOver(t *testing.T) {
	src := []byte("rules:\n  - id: r\n    when: 'true'\n    action: allow\n    rate_limit: {requests: 1, window: 1h}\n")
	e1, err := Compile(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := &Input{Caller: caller.Process{UID: 5, Exe: "/bin/x"}}
	if d := e1.Decide(in); d.Action != Allow {
		t.Fatal(d.Err())
	}
	e2, _ := Compile(src, Options{State: e1.State()})
	if d := e2.Decide(in); d.Denial == nil || d.Denial.Kind != DenyLimit {
		t.Errorf("reloaded engine forgot the window: %+v", d)
	}
}

func TestDecideConcurrent(t *testing.T) {
	src := []byte("rules:\n  - id: r\n    when: 'caller.uid == 1'\n    action: allow\n    rate_limit: {requests: 100, window: 1h}\n")
	e, err := Compile(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				d := e.Decide(&Input{Caller: caller.Process{UID: 1}})
				e.Consume(d, &caller.Process{UID: 1}, 3)
				if d.Action == Allow {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if allowed != 100 {
		t.Errorf("allowed %d of 400, want exactly 100", allowed)
	}
}

func TestParseBody(t *testing.T) {
	var q Request
	ParseBody([]byte(`{"model":"m","max_tokens":5,"stream":true,"tools":[{"name":"bash"},{"type":"web_search_20250305","name":"web_search"},{"type":"computer_x"}]}`), &q)
	if !q.BodyParsed || q.Model != "m" || q.MaxTokens != 5 || !q.Stream || strings.Join(q.Tools, ",") != "bash,web_search,computer_x" {
		t.Errorf("%+v", q)
	}
	ParseBody(nil, &q)
	if !q.BodyParsed || q.BodySize != 0 {
		t.Errorf("empty body: %+v", q)
	}
	for _, bad := range []string{`{"model":`, `[1]`, `"x"`, "{\"model\":\"m\"} trailing"} {
		var q Request
		ParseBody([]byte(bad), &q)
		if q.BodyParsed {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzCompile(f *testing.F) {
	files, _ := filepath.Glob("../testdata/policy/*.txt")
	for _, file := range files {
		b, _ := os.ReadFile(file)
		src, _, _ := strings.Cut(string(b), "\n--- ")
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Compile([]byte(src), Options{})
		if err == nil {
			e.Decide(&Input{})
		}
	})
}

// TestExeChangedVisible: policy sees both the executable /proc showed and
// whether it is still the one that connected.
func TestExeChangedVisible(t *testing.T) {
	src := []byte("rules:\n  - id: spoof\n    when: 'caller.exe_changed'\n    action: deny\n" +
		"  - id: claude\n    when: 'caller.exe == \"/usr/bin/claude\" && caller.exe_name == \"claude\"'\n    action: allow\n")
	e, err := Compile(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	honest := caller.Process{UID: 1, Exe: "/usr/bin/claude", ExeName: "claude"}
	spoofed := caller.Process{UID: 1, Exe: "/usr/bin/claude", ExeName: "evil", ExeChanged: true}
	if d := e.Decide(&Input{Caller: honest}); d.Rule != "claude" || d.Action != Allow {
		t.Errorf("honest caller: rule %q action %v", d.Rule, d.Action)
	}
	if d := e.Decide(&Input{Caller: spoofed}); d.Rule != "spoof" || d.Action == Allow {
		t.Errorf("caller that exec'd after connect: rule %q action %v", d.Rule, d.Action)
	}
}

// Windows of callers that have gone are evicted once they end: a host that
// runs a fresh uid per job does not grow the state without bound, and a
// caller that is still inside its window keeps its count.
func TestLimitWindowsOfGoneCallersAreEvicted(t *testing.T) {
	src := []byte("rules:\n  - id: r\n    when: 'true'\n    action: allow\n    rate_limit: {requests: 1, window: 1m, per: uid}\n")
	e, err := Compile(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for uid := range uint32(1000) {
		e.Decide(&Input{Caller: caller.Process{UID: 10000 + uid}, Time: t0})
	}
	stay := &Input{Caller: caller.Process{UID: 7}, Time: t0.Add(90 * time.Second)}
	e.Decide(stay)
	if n := e.State().size(); n != 1 {
		t.Fatalf("after the windows ended the state holds %d windows, want only the live caller's", n)
	}
	stay.Time = stay.Time.Add(10 * time.Second)
	if d := e.Decide(stay); d.Denial == nil || d.Denial.Kind != DenyLimit {
		t.Fatalf("the live caller's window was lost: %+v", d)
	}
}
