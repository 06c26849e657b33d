package transcript

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/airlock-dev/airlock/audit"
)

// maxReplayGap caps the pause replayed between two requests of a session, so
// a session that idled for an hour does not replay an hour of silence.
const maxReplayGap = 5 * time.Second

// Replay writes rc's events to w at their recorded offsets divided by speed
// (speed <= 0: no pauses). The bytes written are exactly the bytes the client
// received, in the same order; w is flushed after each event if it can be.
func Replay(ctx context.Context, w io.Writer, rc *audit.Recording, speed float64) error {
	start := time.Now()
	for _, ev := range rc.Events {
		if err := sleepUntil(ctx, start, ev.Offset, speed); err != nil {
			return err
		}
		if _, err := w.Write(ev.Data); err != nil {
			return fmt.Errorf("replaying event: %w", err)
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	return nil
}

// ReplaySession replays every recording of d in order, pausing between
// requests as they were spaced (capped at maxReplayGap).
func ReplaySession(ctx context.Context, w io.Writer, d audit.SessionDetail, speed float64) error {
	var prev time.Time
	for _, e := range d.Entries {
		if e.Recording == nil {
			continue
		}
		if !prev.IsZero() {
			gap := min(max(e.Record.Time.Sub(prev), 0), maxReplayGap)
			if err := sleepUntil(ctx, time.Now(), gap, speed); err != nil {
				return err
			}
		}
		prev = e.Record.Time.Add(e.Record.Duration)
		if err := Replay(ctx, w, e.Recording, speed); err != nil {
			return err
		}
	}
	return nil
}

func sleepUntil(ctx context.Context, start time.Time, offset time.Duration, speed float64) error {
	if speed <= 0 {
		return ctx.Err()
	}
	wait := time.Until(start.Add(time.Duration(float64(offset) / speed)))
	if wait <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
