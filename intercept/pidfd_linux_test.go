package intercept

import (
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestExitedIgnoresSignals: a signal landing in the pidfd poll (the Go
// runtime preempts goroutines with SIGURG) must not read as the process
// having exited. It once made the daemon give up serving a live namespace,
// and the first contact held there waited until connect() timed out.
func TestExitedIgnoresSignals(t *testing.T) {
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	pidfd, err := openPidfd(child.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer pidfd.Close()

	var stop atomic.Bool
	sent := make(chan int, 1)
	go func() { // signal this process as fast as it can
		n := 0
		for !stop.Load() {
			_ = syscall.Kill(os.Getpid(), syscall.SIGURG)
			n++
		}
		sent <- n
	}()
	deadline := time.Now().Add(500 * time.Millisecond)
	polls := 0
	for ; time.Now().Before(deadline); polls++ {
		if exited(pidfd) {
			stop.Store(true)
			t.Fatalf("exited() said a live process exited after %d polls", polls)
		}
	}
	stop.Store(true)
	t.Logf("%d polls of a live process under %d signals: none read as exited", polls, <-sent)

	_ = child.Process.Kill()
	_ = child.Wait()
	if !exited(pidfd) {
		t.Fatal("exited() = false after the process was killed and reaped")
	}
}
