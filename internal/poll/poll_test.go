package poll

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestUntil(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		start := time.Now()
		err := Until(context.Background(), time.Minute, func() (bool, error) { calls++; return calls == 4, nil })
		// 20 + 40 + 80 ms of pauses before the fourth call, in simulated time.
		if err != nil || calls != 4 || time.Since(start) != 140*time.Millisecond {
			t.Fatalf("err %v after %d calls and %v", err, calls, time.Since(start))
		}
	})
}

func TestUntilGivesUpAfterOneLastLook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var last time.Duration
		err := Until(context.Background(), time.Second, func() (bool, error) { last = time.Since(start); return false, nil })
		if !errors.Is(err, ErrGaveUp) || !errors.Is(err, context.DeadlineExceeded) || last != time.Second {
			t.Fatalf("err %v, last look at %v", err, last)
		}
	})
}

func TestUntilStopsOnTheConditionsError(t *testing.T) {
	boom := errors.New("the child exited")
	if err := Until(context.Background(), time.Minute, func() (bool, error) { return false, boom }); err != boom {
		t.Fatalf("err %v, want the condition's own", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Until(ctx, time.Minute, func() (bool, error) { return false, nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
