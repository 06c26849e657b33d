package daemon

import (
	"context"
	"sync"
	"testing"
)

// TestReloadWhileStatusIsPolled: SIGHUP changes the targets while the admin
// API serves /v1/status. Under -race (make test runs it plainly; run
// `go test -race -run TestReloadWhileStatusIsPolled ./internal/daemon`) an
// unsynchronised read of the reloaded configuration fails the test.
func TestReloadWhileStatusIsPolled(t *testing.T) {
	r := startDaemon(t)
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := r.d.Status(context.Background()); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	base := *r.d.Config()
	for i := range 50 {
		next := base
		next.Capture.Targets = []string{"127.0.100.0/24"}
		next.Capture.Hosts = []string{"api.anthropic.com"}
		next.Capture.Ports = []int{443 + i%2}
		next.Log.Level = []string{"info", "debug"}[i%2]
		r.d.Reload(&next)
	}
	close(done)
	wg.Wait()
	if got := r.d.Config().Capture.Ports; len(got) != 1 || got[0] != 444 {
		t.Fatalf("ports after the last reload %v, want [444]", got)
	}
}
