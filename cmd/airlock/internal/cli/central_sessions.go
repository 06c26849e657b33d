package cli

import (
	"context"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/internal/transcript"
)

// sessionList reads sessions from the central store or this host's daemon.
func (a *app) sessionList(ctx context.Context, f audit.SessionFilter) ([]audit.Session, error) {
	if !a.usesCentral() {
		c, sock := a.client()
		list, err := c.Sessions(ctx, f)
		if err != nil {
			return nil, adminError(err, sock, "listing sessions", "")
		}
		return list, nil
	}
	db, err := a.centralDB(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	list, err := db.Sessions(ctx, f)
	if err != nil {
		return nil, fail(err, "check the database is reachable", "listing central sessions")
	}
	return list, nil
}

// session reads one session from the central store or this host's daemon.
func (a *app) session(ctx context.Context, id string) (audit.SessionDetail, error) {
	if !a.usesCentral() {
		c, sock := a.client()
		d, err := c.Session(ctx, id)
		if err != nil {
			return d, adminError(err, sock, "session "+id, idNotFound("sessions", "airlock sessions list"))
		}
		return d, nil
	}
	db, err := a.centralDB(ctx)
	if err != nil {
		return audit.SessionDetail{}, err
	}
	defer db.Close()
	d, err := db.Session(ctx, id)
	if err != nil {
		return d, fail(err, "list sessions with 'airlock --central URL sessions list'", "session %s", id)
	}
	return d, nil
}

// replayCentral re-streams a session's recorded responses from the central store.
func (a *app) replayCentral(ctx context.Context, id string, speed float64) error {
	d, err := a.session(ctx, id)
	if err != nil {
		return err
	}
	return transcript.ReplaySession(ctx, a.io.Out, d, speed)
}
