// Package poll is the one polling loop: wait until a condition holds, with
// a bound, for things that give no event to wait on (a file a child process
// writes, a server that starts answering, a counter another goroutine moves).
// testutil.Eventually is this loop for tests.
package poll

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrGaveUp is returned (wrapping the context's cause) when the condition
// did not hold within the timeout or before ctx ended.
var ErrGaveUp = errors.New("gave up waiting")

// Until calls cond (at once, then every 20ms backing off to 200ms) until it
// reports done, returns an error (which stops the wait and is returned as
// is), ctx ends or timeout passes. cond runs once more after the bound, so
// a condition that became true during the last pause is not missed.
func Until(ctx context.Context, timeout time.Duration, cond func() (done bool, err error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		done, err := cond()
		switch {
		case err != nil:
			return err
		case done:
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("%w: %w", ErrGaveUp, context.Cause(ctx))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}
