package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/audit"
)

// TestAuditSurvivesDaemonKill: airlockd SIGKILLed in the middle of a burst of
// requests leaves an audit store that verifies, and every request whose
// client got its answer has its record.
func TestAuditSurvivesDaemonKill(t *testing.T) {
	h := Start(t, Options{})
	const burst, quick = 16, 8
	waits := make([]func() Result, burst)
	for i := range waits {
		args := curlMessages(crashBody(i, i >= quick), "-w", "\nstatus=%{http_code}")
		if i >= quick { // streams still running when the daemon dies
			args = append(args, "-H", "x-fake-scenario: slow", "-H", "x-fake-interval-ms: 2000")
		}
		waits[i] = h.Background(t, "curl", args...)
	}
	completed := map[int]bool{}
	for i := 0; i < quick; i++ {
		completed[i] = answered(waits[i](), i)
	}
	h.Kill(t)
	for i := quick; i < burst; i++ {
		completed[i] = answered(waits[i](), i)
	}

	verify := h.Airlock(t, "audit", "verify", "--db", filepath.Join(h.StateDir, "audit.db"))
	if verify.Code != 0 || !strings.Contains(verify.Stdout, "intact") {
		t.Fatalf("audit verify after SIGKILL: exit %d\n%s%s", verify.Code, verify.Stdout, verify.Stderr)
	}
	recorded := recordedPrompts(t, filepath.Join(h.StateDir, "audit.db"))
	n := 0
	for i, ok := range completed {
		if !ok {
			continue
		}
		n++
		if !recorded[crashPrompt(i)] {
			t.Errorf("request %d was answered but has no audit record", i)
		}
	}
	t.Logf("%d of %d requests answered around the kill; %d recorded", n, burst, len(recorded))
	if n < quick || n == burst {
		t.Fatalf("%d of %d answered: want the %d quick ones, and the slow streams cut by the kill", n, burst, quick)
	}
}

func crashPrompt(i int) string { return fmt.Sprintf("crash-burst-%02d", i) }

func crashBody(i int, stream bool) string {
	return fmt.Sprintf(`{"model":"claude-sonnet-4-5","max_tokens":16,"stream":%t,"messages":[{"role":"user","content":%q}]}`,
		stream, crashPrompt(i))
}

// answered reports whether curl got a complete 200 answer quoting its prompt.
func answered(r Result, i int) bool {
	return r.Code == 0 && strings.Contains(r.Stdout, "status=200") && strings.Contains(r.Stdout, crashPrompt(i))
}

// recordedPrompts opens the dead daemon's store and returns the prompts its
// recordings hold.
func recordedPrompts(t *testing.T, path string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	s, err := audit.Open(ctx, audit.StoreConfig{Path: path})
	if err != nil {
		t.Fatalf("opening the audit store: %v", err)
	}
	defer s.Close()
	recs, err := s.List(ctx, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, r := range recs {
		rc, err := s.Recording(ctx, r.ID)
		if err != nil || rc == nil {
			continue
		}
		for i := 0; i < 64; i++ {
			if strings.Contains(string(rc.RequestBody), crashPrompt(i)) {
				out[crashPrompt(i)] = true
			}
		}
	}
	return out
}
