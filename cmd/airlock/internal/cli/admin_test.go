package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/admin"
	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/internal/testutil"
	"github.com/airlock-dev/airlock/policy/approval"
)

// daemon is a real admin server over a real audit store and approval broker,
// in-process, on a socket in a temp dir.
type daemon struct {
	sock   string
	store  *audit.Store
	broker *approval.Broker
	dbPath string
}

var t0 = time.Date(2026, 11, 29, 2, 15, 0, 0, time.UTC)

func startDaemon(t *testing.T) *daemon {
	t.Helper()
	return startDaemonWith(t, admin.ServerConfig{})
}

// startDaemonWith starts the admin server with cfg (its socket path is set here).
func startDaemonWith(t *testing.T, cfg admin.ServerConfig) *daemon {
	t.Helper()
	dir := t.TempDir()
	d := &daemon{sock: filepath.Join(dir, "admin.sock"), dbPath: filepath.Join(dir, "audit.db")}
	var err error
	if d.store, err = audit.Open(context.Background(), audit.StoreConfig{Path: d.dbPath}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.store.Close() })
	d.broker = approval.NewBroker(approval.Config{Timeout: time.Minute})
	status := func(context.Context) (admin.Status, error) {
		return admin.Status{Version: "test", PID: 4321,
			Capture: admin.CaptureStatus{Enabled: true, FailMode: "closed", Cgroup: "/sys/fs/cgroup/unified/test",
				Targets: []string{"127.0.100.0/24:443"}, Counters: map[string]uint64{"redirected": 12, "skipped": 3}},
			CA:          admin.CAStatus{Fingerprint: "ab:cd", NotAfter: time.Date(2036, 11, 29, 0, 0, 0, 0, time.UTC)},
			Credentials: []admin.CredentialStatus{{Name: "default", Kind: "api_key", Source: "systemd credential k", OK: true}},
			Audit:       admin.AuditStatus{Path: "/var/lib/airlock/audit.db", OK: true},
		}, nil
	}
	cfg.SocketPath = d.sock
	srv := admin.NewServer(cfg, admin.Deps{Status: status, Approvals: d.broker, Audit: d.store})
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); srv.Close() })
	return d
}

func (d *daemon) run(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, "", append([]string{"--socket", d.sock}, args...)...)
}

func record(i int, user, model, decision string) *audit.Record {
	return &audit.Record{
		Time: t0.Add(time.Duration(i) * time.Minute), RequestID: fmt.Sprintf("req_%d", i), SessionID: "sess-" + user,
		Caller: caller.Process{PID: 4000 + i, UID: 1000 + uint32(len(user)), User: user, Exe: "/usr/bin/node"},
		Dst:    "127.0.100.1:443", SNI: "api.anthropic.com", Method: "POST", Path: "/v1/messages", Model: model,
		Stream: true, Decision: decision, Rule: "r-" + decision, EmbeddedClass: "api_key", Status: 200,
		Duration: 800 * time.Millisecond, InputTokens: 10, OutputTokens: 20, Masked: map[string]int{"aws": 1},
	}
}

func (d *daemon) writeRecords(t *testing.T) {
	t.Helper()
	recs := []*audit.Record{record(1, "alice", "claude-sonnet-4-5", "allow"), record(2, "bob", "claude-opus-4-1", "deny"),
		record(3, "alice", "claude-opus-4-1", "allow")}
	for _, r := range recs {
		rc := &audit.Recording{RequestBody: []byte(`{"model":"` + r.Model + `","messages":[{"role":"user","content":"hello [MASKED:aws:1]"}]}`),
			Status: 200, ContentType: "text/event-stream",
			Events: []audit.Event{{Offset: 0, Data: []byte("event: message_start\ndata: {\"type\":\"message_start\"}\n\n")},
				{Offset: time.Millisecond, Data: []byte("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")}}}
		if err := d.store.Write(context.Background(), r, rc); err != nil {
			t.Fatal(err)
		}
	}
}

// The text and --json outputs name the same fields: each text key is the
// JSON path a script would select.
func TestStatusThroughAdminAPI(t *testing.T) {
	d := startDaemon(t)
	r := d.run(t, "status")
	var st map[string]any
	d.run(t, "--json", "status").decodeJSON(t, &st)
	for _, want := range []string{"capture.cgroup:", "/sys/fs/cgroup/unified/test", "capture.targets:", "127.0.100.0/24:443",
		"ca.fingerprint:", "capture.counters.redirected:", "credentials[0].ok:", "approvals.pending:"} {
		if r.code != 0 || !strings.Contains(r.out, want) {
			t.Errorf("status lacks %q (code %d):\n%s%s", want, r.code, r.out, r.err)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(r.out), "\n")[1:] {
		key, _, _ := strings.Cut(line, ":")
		if !hasPath(st, key) {
			t.Errorf("text key %q is not a path of --json", key)
		}
	}
}

// hasPath reports whether a dotted path with [i] indexes exists in doc.
func hasPath(doc any, path string) bool {
	for _, part := range strings.Split(path, ".") {
		name, idx, indexed := strings.Cut(strings.TrimSuffix(part, "]"), "[")
		m, ok := doc.(map[string]any)
		if !ok {
			return false
		}
		if doc, ok = m[name]; !ok {
			return false
		}
		if indexed {
			l, ok := doc.([]any)
			i, err := strconv.Atoi(idx)
			if !ok || err != nil || i >= len(l) {
				return false
			}
			doc = l[i]
		}
	}
	return true
}

func TestDaemonDownIsOneLineWithFix(t *testing.T) {
	for _, args := range [][]string{{"status"}, {"approvals", "list"}, {"audit", "verify"}, {"sessions", "list"}} {
		r := run(t, "", append([]string{"--socket", filepath.Join(t.TempDir(), "none.sock")}, args...)...)
		r.wantOneLineError(t, ExitFailure, "airlockd is not running", "systemctl start airlockd")
	}
}

// hold puts a request on hold and returns a channel with its outcome.
func (d *daemon) hold(t *testing.T, rule string) (string, <-chan approval.Outcome) {
	t.Helper()
	return d.holdRequest(t, approval.Request{
		Caller: caller.Process{PID: 4242, UID: 1000, User: "alice", Exe: "/usr/bin/python3"},
		Rule:   rule, Reason: "needs a human", Digest: "abc123", Method: "POST", Path: "/v1/messages",
		Model: "claude-opus-4-1", Summary: "deploy the thing"})
}

func (d *daemon) holdRequest(t *testing.T, req approval.Request) (string, <-chan approval.Outcome) {
	t.Helper()
	before := len(d.broker.List())
	done := make(chan approval.Outcome, 1)
	go func() {
		out, _ := d.broker.Await(context.Background(), req)
		done <- out
	}()
	var id string
	testutil.Eventually(t, 5*time.Second, "the request held", func() bool {
		list := d.broker.List()
		if len(list) > before {
			id = list[len(list)-1].ID
		}
		return id != ""
	})
	return id, done
}

func outcome(t *testing.T, ch <-chan approval.Outcome) approval.Outcome {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(30 * time.Second):
		t.Fatal("held request was not released")
	}
	return approval.Outcome{}
}
