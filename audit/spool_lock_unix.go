//go:build unix

package audit

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockSpool takes the spool's owner lock without waiting: only the process
// holding it (the daemon) replays and appends; another opener of the same
// store (`airlock audit verify --db` beside a running daemon) must not commit
// or remove the daemon's spooled records. The kernel drops the lock when its
// holder dies, so a restart after a SIGKILL takes it again.
func lockSpool(dbPath string) (*os.File, bool, error) {
	f, err := os.OpenFile(dbPath+".spool-lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("opening the audit spool lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("locking the audit spool: %w", err)
	}
	return f, true, nil
}
