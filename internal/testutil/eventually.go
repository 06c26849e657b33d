package testutil

import (
	"testing"
	"time"
)

// Eventually polls cond (every 20ms, backing off to 200ms) until it holds,
// and fails the test naming what it waited for if it does not within
// timeout. It replaces the hand-written sleep loops: a timeout here is a
// failure with a reason, not a measurement.
func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("waited %v for %s", timeout, what)
		}
		time.Sleep(wait)
	}
}
