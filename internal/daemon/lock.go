package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// errAlreadyRunning means another airlockd holds the lock.
var errAlreadyRunning = errors.New("another airlockd is already running")

// acquireLock takes an exclusive flock on path and writes our pid into it. The
// kernel drops the lock when the process dies, so a crash never leaves a stale lock.
func acquireLock(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fail("creating runtime directory "+filepath.Dir(path),
			"set runtime_dir to a writable directory, e.g. /run/airlock", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fail("opening lock file "+path, "set runtime_dir to a writable directory", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		holder := readPID(f)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fail(fmt.Sprintf("lock %s is held by pid %s", path, holder),
				"stop the running daemon first (systemctl stop airlockd), or give this one another runtime_dir",
				errAlreadyRunning)
		}
		return nil, fail("locking "+path, "check the runtime directory's filesystem", err)
	}
	writePID(f)
	return f, nil
}

func readPID(f *os.File) string {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	if pid := string(bytes.TrimSpace(b[:n])); pid != "" {
		return pid
	}
	return "unknown"
}

func writePID(f *os.File) {
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
}
