package admin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/caller"
)

func TestStatusAndApprovalsOverSocket(t *testing.T) {
	f := newFixture(t, ServerConfig{})
	ctx := ctxT(t)
	st, err := f.client.Status(ctx)
	if err != nil || st.Version != "test" || len(st.Credentials) != 1 || !st.Credentials[0].OK {
		t.Fatalf("status = %v, %v", st, err)
	}
	id, ch := f.hold(t, heldRequest(1000))
	list, err := f.client.Approvals(ctx)
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].Command != "airlock approvals approve "+id {
		t.Fatalf("approvals = %+v, %v", list, err)
	}
	p, err := f.client.Approval(ctx, id)
	if err != nil || p.Request.Rule != "prod-db" {
		t.Fatalf("approval = %+v, %v", p, err)
	}
	res, err := f.client.Approve(ctx, id, "ticket 42", 30*time.Minute)
	if err != nil || !res.Approved || res.Approver != "uid:0(root)" || res.Until.IsZero() {
		t.Fatalf("approve = %+v, %v", res, err)
	}
	a := recv(t, ch)
	if !a.out.Approved || a.out.Approver != "uid:0(root)" || a.out.Reason != "ticket 42" {
		t.Fatalf("outcome = %+v", a.out)
	}
	var reused *APIError
	if _, err := f.client.Approve(ctx, id, "", 0); !errors.As(err, &reused) || reused.Status != http.StatusConflict {
		t.Fatalf("reusing an approval = %v, want 409 (already decided)", err)
	}
	id2, ch2 := f.hold(t, heldRequest(1001))
	if res, err := f.client.Deny(ctx, id2, "no"); err != nil || res.Approved {
		t.Fatalf("deny = %+v, %v", res, err)
	}
	if a := recv(t, ch2); a.out.Approved || a.out.Approver != "uid:0(root)" {
		t.Fatalf("denied outcome = %+v", a.out)
	}
	if _, err := f.client.Approval(ctx, "nope"); !IsNotFound(err) {
		t.Fatalf("unknown approval = %v", err)
	}
}

// rawPost sends a body the typed client would never produce.
func rawDo(t *testing.T, f *fixture, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctxT(t), method, "http://airlock"+path, strings.NewReader(body))
	resp, err := f.client.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMalformedRequestsGet400(t *testing.T) {
	f := newFixture(t, ServerConfig{})
	id, ch := f.hold(t, heldRequest(1000))
	defer func() { _ = f.broker.Deny(id, "test", ""); recv(t, ch) }()
	cases := []struct{ method, path, body string }{
		{"POST", "/v1/approvals/" + id + "/approve", "{not json"},
		{"POST", "/v1/approvals/" + id + "/approve", `{"for":"soon"}`},
		{"POST", "/v1/approvals/" + id + "/approve", `{"for":"-5m"}`},
		{"POST", "/v1/approvals/" + id + "/approve", `{"approver":"mallory"}`},
		{"POST", "/v1/approvals/" + id + "/deny", `{"for":"30m"}`},
		{"GET", "/v1/audit?since=yesterday-ish", ""},
		{"GET", "/v1/audit?limit=-1", ""},
		{"GET", "/v1/audit/abc", ""},
		{"GET", "/v1/sessions?since=x", ""},
		{"GET", "/v1/sessions/s/replay?speed=fast", ""},
	}
	for _, c := range cases {
		code, body := rawDo(t, f, c.method, c.path, c.body)
		if code != http.StatusBadRequest || !strings.Contains(body, `"error"`) {
			t.Errorf("%s %s %s = %d %s, want 400 with a reason", c.method, c.path, c.body, code, body)
		}
	}
	if p, err := f.broker.Get(id); err != nil || p.ID != id {
		t.Fatal("a malformed request decided the approval")
	}
}

func writeRecords(t *testing.T, f *fixture) []audit.Record {
	t.Helper()
	o := &ObservingAuditor{Auditor: f.store, Metrics: f.metrics}
	var out []audit.Record
	for i, model := range []string{"claude-a", "claude-b"} {
		r := &audit.Record{Time: time.Now().Add(time.Duration(i) * time.Second), SessionID: "sess-x", Model: model,
			Caller: caller.Process{UID: 1000, User: "dev", Exe: "/usr/bin/node"}, Decision: "allow", Rule: "default",
			Status: 200, TTFB: 20 * time.Millisecond, Duration: time.Second, InputTokens: 10, OutputTokens: 5,
			Masked: map[string]int{"github_token": 2}}
		rc := &audit.Recording{RequestBody: []byte(`{"messages":[{"role":"user","content":"hi"}]}`), Status: 200,
			ContentType: "text/event-stream", Events: []audit.Event{
				{Offset: 0, Data: []byte("event: ping\ndata: {\"type\":\"ping\"}\n\n")},
				{Offset: 5 * time.Millisecond, Data: []byte("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")}}}
		if err := o.Write(context.Background(), r, rc); err != nil {
			t.Fatal(err)
		}
		out = append(out, *r)
	}
	return out
}

func TestAuditAndSessionEndpoints(t *testing.T) {
	f := newFixture(t, ServerConfig{})
	ctx := ctxT(t)
	recs := writeRecords(t, f)
	list, err := f.client.Audit(ctx, audit.Filter{Model: "claude-b", Caller: "node", Since: time.Now().Add(-time.Hour)})
	if err != nil || len(list) != 1 || list[0].ID != recs[1].ID {
		t.Fatalf("audit list = %+v, %v", list, err)
	}
	var jsonl bytes.Buffer
	if err := f.client.Export(ctx, audit.Filter{}, &jsonl); err != nil || strings.Count(jsonl.String(), "\n") != 2 {
		t.Fatalf("export = %q, %v", jsonl.String(), err)
	}
	e, err := f.client.AuditRecord(ctx, recs[0].ID)
	if err != nil || e.Record.Hash != recs[0].Hash || e.Recording == nil || len(e.Recording.Events) != 2 {
		t.Fatalf("audit record = %+v, %v", e, err)
	}
	if _, err := f.client.AuditRecord(ctx, 999); !IsNotFound(err) {
		t.Fatalf("unknown record = %v", err)
	}
	rep, err := f.client.Verify(ctx)
	if err != nil || !rep.OK || rep.Records != 2 {
		t.Fatalf("verify = %+v, %v", rep, err)
	}
	sessions, err := f.client.Sessions(ctx, audit.SessionFilter{})
	if err != nil || len(sessions) != 1 || sessions[0].ID != "sess-x" || sessions[0].Records != 2 {
		t.Fatalf("sessions = %+v, %v", sessions, err)
	}
	d, err := f.client.Session(ctx, "sess-x")
	if err != nil || len(d.Entries) != 2 {
		t.Fatalf("session = %+v, %v", d, err)
	}
	if _, err := f.client.Session(ctx, "nope"); !IsNotFound(err) {
		t.Fatalf("unknown session = %v", err)
	}
	var replay bytes.Buffer
	if err := f.client.Replay(ctx, "sess-x", 0, &replay); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	for _, en := range d.Entries {
		for _, ev := range en.Recording.Events {
			want.Write(ev.Data)
		}
	}
	if !bytes.Equal(replay.Bytes(), want.Bytes()) {
		t.Fatalf("replay = %q, want %q", replay.String(), want.String())
	}
}

func TestMetricsEndpoint(t *testing.T) {
	f := newFixture(t, ServerConfig{MetricsAddr: "127.0.0.1:0"})
	writeRecords(t, f)
	id, ch := f.hold(t, heldRequest(1))
	defer func() { _ = f.broker.Deny(id, "t", ""); recv(t, ch) }()
	f.metrics.SetBPFFunc(func() map[string]uint64 { return map[string]uint64{"redirected": 7} })
	f.metrics.UpstreamError("dial")
	f.metrics.CredentialReload(true)
	var buf bytes.Buffer
	if err := f.client.Metrics(ctxT(t), &buf); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + f.srv.Addr("metrics").String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	loopback, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, text := range []string{buf.String(), string(loopback)} {
		for _, want := range []string{
			`airlock_requests_total{decision="allow",model="claude-a",rule="default",status="200"} 1`,
			`airlock_tokens_total{kind="input"} 20`, `airlock_masked_items_total{detector="github_token"} 4`,
			`airlock_pending_approvals 1`, `airlock_bpf_events_total{counter="redirected"} 7`,
			`airlock_upstream_errors_total{kind="dial"} 1`, `airlock_credential_reloads_total{result="ok"} 1`,
			`airlock_request_ttfb_seconds_count{model="claude-b"} 1`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("metrics lack %q", want)
			}
		}
	}
}

func TestTCPListenerRequiresToken(t *testing.T) {
	f := newFixture(t, ServerConfig{TCPAddr: "127.0.0.1:0", TCPToken: "test-token-not-secret"})
	base := "http://" + f.srv.Addr("tcp").String()
	ctx := ctxT(t)
	for _, token := range []string{"", "wrong"} {
		_, err := NewTCPClient(base, token).Status(ctx)
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
			t.Fatalf("token %q: %v, want 403", token, err)
		}
	}
	c := NewTCPClient(base, "test-token-not-secret")
	if _, err := c.Status(ctx); err != nil {
		t.Fatal(err)
	}
	id, ch := f.hold(t, heldRequest(1))
	if res, err := c.Approve(ctx, id, "", 0); err != nil || !strings.HasPrefix(res.Approver, "token@127.0.0.1:") {
		t.Fatalf("approve over TCP = %+v, %v", res, err)
	}
	if a := recv(t, ch); !strings.HasPrefix(a.out.Approver, "token@") {
		t.Fatalf("outcome = %+v", a.out)
	}
}

func TestTCPWithoutTokenRefusesToStart(t *testing.T) {
	s := NewServer(ServerConfig{SocketPath: t.TempDir() + "/a.sock", TCPAddr: "127.0.0.1:0"}, Deps{})
	if err := s.Start(context.Background()); err == nil {
		s.Close()
		t.Fatal("TCP listener started without a token")
	}
}

func TestMetricsPortMustBeLoopback(t *testing.T) {
	s := NewServer(ServerConfig{SocketPath: t.TempDir() + "/a.sock", MetricsAddr: "0.0.0.0:0"}, Deps{})
	if err := s.Start(context.Background()); err == nil {
		s.Close()
		t.Fatal("metrics listener started on a non-loopback address")
	}
}
