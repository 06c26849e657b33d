package testutil

import (
	"context"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/internal/poll"
)

// Eventually polls cond (every 20ms, backing off to 200ms) until it holds,
// and fails the test naming what it waited for if it does not within
// timeout. It replaces the hand-written sleep loops: a timeout here is a
// failure with a reason, not a measurement. Inside a synctest bubble the
// pauses are simulated time.
func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	err := poll.Until(context.Background(), timeout, func() (bool, error) { return cond(), nil })
	if err != nil {
		tb.Fatalf("waited %v for %s", timeout, what)
	}
}
