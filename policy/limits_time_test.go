package policy

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/airlock-dev/airlock/caller"
)

// A rate window on the engine's own clock, in simulated time
// (testing/synctest): the retry-after counts down to the window's end, the
// window reopens exactly then, and the ended windows of callers that have
// gone are evicted once a sweep is due.
func TestRateWindowOnTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := []byte("rules:\n  - id: r\n    when: 'true'\n    action: allow\n    rate_limit: {requests: 2, window: 1m, per: uid}\n")
		e, err := Compile(src, Options{})
		if err != nil {
			t.Fatal(err)
		}
		in := &Input{Caller: caller.Process{UID: 7}}
		decide := func() Decision { return e.Decide(in) }
		for range 2 {
			if d := decide(); d.Action != Allow {
				t.Fatalf("inside the allowance: %+v", d)
			}
		}
		time.Sleep(20 * time.Second)
		if d := decide(); d.Denial == nil || d.Denial.Kind != DenyLimit || d.RetryAfter != 40*time.Second {
			t.Fatalf("over the allowance 20s in: %+v, want a limit denial retrying after 40s", d)
		}
		time.Sleep(40*time.Second - time.Nanosecond)
		if d := decide(); d.Denial == nil || d.RetryAfter != time.Nanosecond {
			t.Fatalf("a moment before the window ends: %+v", d)
		}
		time.Sleep(time.Nanosecond)
		if d := decide(); d.Action != Allow {
			t.Fatalf("the window ended but the caller is still limited: %+v", d)
		}
		for uid := range uint32(100) {
			e.Decide(&Input{Caller: caller.Process{UID: 10000 + uid}})
		}
		time.Sleep(sweepEvery + time.Minute)
		decide()
		if n := e.State().size(); n != 1 {
			t.Fatalf("after the windows ended the state holds %d windows, want only the live caller's", n)
		}
	})
}
