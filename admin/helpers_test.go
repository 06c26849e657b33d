package admin

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/internal/testutil"
	"github.com/airlock-dev/airlock/policy/approval"
)

type fixture struct {
	srv     *Server
	client  *Client
	broker  *approval.Broker
	store   *audit.Store
	metrics *Metrics
	dir     string
}

// newFixture starts a server on a socket in a world-traversable temp dir (so
// tests can run clients as other uids) with a real broker and store.
func newFixture(t *testing.T, cfg ServerConfig) *fixture {
	t.Helper()
	dir, err := os.MkdirTemp("", "airlock-admin-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	store, err := audit.Open(context.Background(), audit.StoreConfig{Path: filepath.Join(dir, "audit.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := &fixture{dir: dir, store: store, broker: approval.NewBroker(approval.Config{Timeout: time.Hour}), metrics: NewMetrics()}
	f.metrics.SetPendingFunc(f.broker.Count)
	cfg.SocketPath = filepath.Join(dir, "admin.sock")
	f.srv = NewServer(cfg, Deps{
		Status: func(context.Context) (Status, error) {
			return Status{Version: "test", Credentials: []CredentialStatus{{Name: "default", OK: true}}}, nil
		},
		Approvals: f.broker, Audit: store, Metrics: f.metrics,
	})
	if err := f.srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.srv.Close() })
	f.client = NewClient(cfg.SocketPath)
	return f
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func heldRequest(uid uint32) approval.Request {
	return approval.Request{Caller: caller.Process{PID: 7, UID: uid, Exe: "/usr/bin/agent"}, Rule: "prod-db",
		Reason: "touches production", Method: "POST", Path: "/v1/messages", Model: "claude-test"}
}

type awaited struct {
	out approval.Outcome
	err error
}

// hold parks a request in the broker and returns its id.
func (f *fixture) hold(t *testing.T, req approval.Request) (string, <-chan awaited) {
	t.Helper()
	before := len(f.broker.List())
	ch := make(chan awaited, 1)
	go func() {
		out, err := f.broker.Await(context.Background(), req)
		ch <- awaited{out, err}
	}()
	var id string
	testutil.Eventually(t, 10*time.Second, "the request held", func() bool {
		l := f.broker.List()
		if len(l) > before {
			id = l[len(l)-1].ID
		}
		return id != ""
	})
	return id, ch
}

func recv(t *testing.T, ch <-chan awaited) awaited {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(30 * time.Second):
		t.Fatal("hold not released")
		return awaited{}
	}
}
