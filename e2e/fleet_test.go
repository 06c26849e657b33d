package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/internal/poll"
	"github.com/airlock-dev/airlock/internal/testutil"
)

// fleetConfig joins a daemon to the fleet's PostgreSQL as host.
func fleetConfig(url, host string) string {
	return fmt.Sprintf("audit:\n  central: {url: %q, host_id: %s}\napprovals:\n  central: true\n", url, host)
}

// centralCLI runs the operator's CLI against the fleet's database only: no
// daemon config, no admin socket, outside every captured cgroup.
func centralCLI(t *testing.T, url string, args ...string) Result {
	t.Helper()
	return runNoFatal(60*time.Second, bins.Airlock, append([]string{"--central", url, "--json"}, args...)...)
}

// Two daemons (two cgroups, two state directories) share one PostgreSQL:
// their records arrive centrally exactly once each, survive a SIGKILL
// mid-stream, verify per host, and an edited central row is named; a
// request held on one host is approved by an operator who reaches only the
// database.
func TestFleetOneTrailOneQueue(t *testing.T) {
	pg := testutil.StartPostgres(t)
	a := Start(t, Options{Policy: apprPolicy, Config: fleetConfig(pg.URL, "host-a")})
	b := Start(t, Options{Policy: apprPolicy, Config: fleetConfig(pg.URL, "host-b")})
	for i := range 3 {
		for _, h := range []*Harness{a, b} {
			mustCurl(t, h, fmt.Sprintf("fleet-%d", i))
		}
	}
	a.Kill(t) // SIGKILL: whatever was not shipped yet waits in host-a's local store
	mustCurlFails(t, a)
	if err := a.StartDaemon(t); err != nil {
		t.Fatalf("restarting airlockd: %v\n%s", err, a.Log())
	}
	mustCurl(t, a, "after-restart")
	waitCentral(t, pg.URL, map[string]int{"host-a": len(a.Audit(t)), "host-b": len(b.Audit(t))})
	if res := centralCLI(t, pg.URL, "audit", "verify"); res.Code != 0 {
		t.Fatalf("verify --central of an untouched fleet: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	t.Run("edited-row-named", func(t *testing.T) { fleetEdit(t, pg) })
	t.Run("approve-from-anywhere", func(t *testing.T) { fleetApprove(t, pg.URL, a) })
	t.Run("sessions-from-anywhere", func(t *testing.T) { fleetSessions(t, pg.URL, b) })
	t.Run("show-one-hosts-record", func(t *testing.T) { fleetShow(t, pg.URL) })
}

// fleetShow: record ids are per host; show names the host and gets that one.
func fleetShow(t *testing.T, url string) {
	var e audit.Entry
	res := centralCLI(t, url, "audit", "show", "1", "--host", "host-a")
	if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &e) != nil || e.Record.Host != "host-a" || e.Record.ID != 1 || e.Recording == nil {
		t.Errorf("central audit show: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	if res := centralCLI(t, url, "audit", "show", "1"); res.Code != 2 {
		t.Errorf("central audit show without --host: exit %d, want a usage error", res.Code)
	}
}

// fleetSessions: a host's sessions read and replayed from the central store
// match what the host itself replays, byte for byte.
func fleetSessions(t *testing.T, url string, h *Harness) {
	var list []audit.Session
	res := centralCLI(t, url, "sessions", "list", "--limit", "0")
	if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &list) != nil || len(list) == 0 {
		t.Fatalf("central sessions list: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	id := h.LastAudit(t).SessionID
	local := h.Airlock(t, "sessions", "replay", id, "--speed", "1000")
	remote := runNoFatal(60*time.Second, bins.Airlock, "--central", url, "sessions", "replay", id, "--speed", "1000")
	if local.Code != 0 || remote.Code != 0 || local.Stdout == "" || remote.Stdout != local.Stdout {
		t.Errorf("replay of %s: local exit %d (%d bytes), central exit %d (%d bytes) %s", id, local.Code, len(local.Stdout),
			remote.Code, len(remote.Stdout), remote.Stderr)
	}
}

func mustCurl(t *testing.T, h *Harness, marker string) {
	t.Helper()
	body := `{"model":"claude-haiku-4-5","max_tokens":16,"messages":[{"role":"user","content":"` + marker + `"}]}`
	if res := h.Run(t, "curl", curlMessages(body, "-f")...); res.Code != 0 {
		t.Fatalf("curl %s: exit %d\n%s%s", marker, res.Code, res.Stdout, res.Stderr)
	}
}

// mustCurlFails: with the daemon dead, capture fails closed.
func mustCurlFails(t *testing.T, h *Harness) {
	t.Helper()
	body := `{"model":"claude-haiku-4-5","max_tokens":16,"messages":[{"role":"user","content":"while-dead"}]}`
	if res := h.Run(t, "curl", curlMessages(body, "--max-time", "5")...); res.Code == 0 {
		t.Fatalf("a request succeeded while airlockd was dead:\n%s", res.Stdout)
	}
}

// waitCentral waits until each host has exactly want records centrally.
func waitCentral(t *testing.T, url string, want map[string]int) {
	t.Helper()
	var got map[string]int
	var res Result
	if poll.Until(context.Background(), 60*time.Second, func() (bool, error) {
		got, res = centralCounts(t, url)
		return fmt.Sprint(got) == fmt.Sprint(want), nil
	}) != nil {
		t.Fatalf("central records per host %v, want %v (last CLI exit %d: %s)", got, want, res.Code, res.Stderr)
	}
}

// centralCounts is the number of central records per host; a record stored
// twice fails the test.
func centralCounts(t *testing.T, url string) (map[string]int, Result) {
	got, seen := map[string]int{}, map[string]bool{}
	res := centralCLI(t, url, "audit", "list", "--limit", "0")
	var recs []audit.Record
	if res.Code == 0 && json.Unmarshal([]byte(res.Stdout), &recs) == nil {
		for _, r := range recs {
			key := fmt.Sprintf("%s/%d", r.Host, r.ID)
			if seen[key] {
				t.Fatalf("record %s is stored centrally twice", key)
			}
			seen[key] = true
			got[r.Host]++
		}
	}
	return got, res
}

// fleetEdit: someone with write access to the database rewrites a decision.
func fleetEdit(t *testing.T, pg *testutil.Postgres) {
	pg.Psql(t, `UPDATE records SET body = convert_to(replace(convert_from(body, 'UTF8'), '"allow"', '"deny"'), 'UTF8')
		WHERE host = 'host-b' AND seq = 2`)
	res := centralCLI(t, pg.URL, "audit", "verify")
	var reps []struct {
		Host     string          `json:"host"`
		OK       bool            `json:"ok"`
		Problems []audit.Problem `json:"problems"`
	}
	if res.Code != 1 || json.Unmarshal([]byte(res.Stdout), &reps) != nil {
		t.Fatalf("verify --central after an edit: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	for _, r := range reps {
		named := len(r.Problems) > 0 && r.Problems[0].Kind == audit.Edited && r.Problems[0].Seq == 2
		if (r.Host == "host-b") != named || (r.Host == "host-a") != r.OK {
			t.Errorf("host %s: ok=%v problems %+v; only host-b record 2 was edited", r.Host, r.OK, r.Problems)
		}
	}
}

// fleetApprove: a request held on host-a is approved through PostgreSQL by
// "alice", who is not root on host-a; the client gets its answer and the
// audit names her, with the database role she decided as.
func fleetApprove(t *testing.T, url string, a *Harness) {
	c := startCurl(t, a, riskyModel, "fleet-held")
	id := waitCentralHold(t, url, c)
	if res := centralCLI(t, url, "--as", "alice", "approvals", "approve", id); res.Code != 0 {
		t.Fatalf("central approve: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	if r := c.reply(t); r.Status != 200 {
		t.Fatalf("held request after the central approval: %+v", r)
	}
	rec := recordOf(t, a, id)
	// The name was typed; the role that wrote it is recorded beside it.
	if rec.Decision != "allow" || rec.Approver != "central:alice (as database role airlock)" {
		t.Errorf("audit record of the approved request: decision %q approver %q", rec.Decision, rec.Approver)
	}
	if res := centralCLI(t, url, "--as", "bob", "approvals", "approve", id); res.Code == 0 {
		t.Errorf("a second approval of %s was accepted: approvals are single use", id)
	}
}

func waitCentralHold(t *testing.T, url string, c *heldCall) string {
	t.Helper()
	var id string
	testutil.Eventually(t, 45*time.Second, fmt.Sprintf("the hold of %q in the central queue", c.marker), func() bool {
		var open []struct {
			ID      string `json:"id"`
			Request struct {
				Summary string `json:"Summary"`
			} `json:"request"`
		}
		res := centralCLI(t, url, "approvals", "list")
		if json.Unmarshal([]byte(res.Stdout), &open) == nil {
			for _, o := range open {
				if strings.Contains(o.Request.Summary, c.marker) {
					id = o.ID
					return true
				}
			}
		}
		return false
	})
	return id
}
