package cli

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/airlock-dev/airlock/audit"
)

func TestAuditListFiltersAndFormats(t *testing.T) {
	d := startDaemon(t)
	d.writeRecords(t)
	r := d.run(t, "audit", "list")
	if r.code != 0 || strings.Count(r.out, "/v1/messages") != 3 || !strings.Contains(r.out, "TOKENS IN/OUT") {
		t.Fatalf("list: code %d\n%s%s", r.code, r.out, r.err)
	}
	cases := []struct {
		args []string
		ids  []int64
	}{
		{[]string{"--caller", "alice"}, []int64{1, 3}},
		{[]string{"--model", "claude-opus-4-1"}, []int64{2, 3}},
		{[]string{"--decision", "deny"}, []int64{2}},
		{[]string{"--since", "2026-11-29T02:17:00Z"}, []int64{2, 3}},
		{[]string{"--since", "2026-11-29 02:16:30", "--until", "2026-11-29T02:17:30Z"}, []int64{2}},
		{[]string{"--caller", "alice", "--model", "claude-opus-4-1"}, []int64{3}},
	}
	for _, c := range cases {
		r := d.run(t, append([]string{"audit", "list", "--format", "jsonl"}, c.args...)...)
		if got := jsonlIDs(t, r.out); !slices.Equal(got, c.ids) {
			t.Errorf("%v: ids %v, want %v", c.args, got, c.ids)
		}
	}
	var recs []audit.Record
	d.run(t, "--json", "audit", "list", "--decision", "allow").decodeJSON(t, &recs)
	if len(recs) != 2 {
		t.Errorf("--json list: %d records, want 2", len(recs))
	}
	d.run(t, "audit", "list", "--since", "last tuesday").wantOneLineError(t, ExitUsage, "cannot read the time")
	d.run(t, "audit", "list", "--format", "xml").wantOneLineError(t, ExitUsage, "unknown format")
}

func jsonlIDs(t *testing.T, out string) []int64 {
	t.Helper()
	var ids []int64
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("jsonl line does not parse: %v\n%s", err, sc.Text())
		}
		ids = append(ids, r.ID)
	}
	return ids
}

func TestAuditShowAndExport(t *testing.T) {
	d := startDaemon(t)
	d.writeRecords(t)
	r := d.run(t, "audit", "show", "2", "--body")
	for _, want := range []string{"caller:", "bob(1003) /usr/bin/node pid 4002", "decision:", "deny", "masked:", "aws=1",
		"recording:", "2 event(s)", "hello [MASKED:aws:1]", "event: message_stop"} {
		if r.code != 0 || !strings.Contains(r.out, want) {
			t.Errorf("show lacks %q:\n%s%s", want, r.out, r.err)
		}
	}
	var e audit.Entry
	d.run(t, "--json", "audit", "show", "2").decodeJSON(t, &e)
	if e.Record.ID != 2 || e.Recording == nil {
		t.Errorf("show --json = %+v", e)
	}
	d.run(t, "audit", "show", "99").wantOneLineError(t, ExitFailure, "airlock audit list")
	d.run(t, "audit", "show", "abc").wantOneLineError(t, ExitUsage, "invalid record id")

	out := filepath.Join(t.TempDir(), "audit.jsonl")
	if r := d.run(t, "audit", "export", "--caller", "alice", "--out", out); r.code != 0 {
		t.Fatalf("export: %s", r.err)
	}
	data, err := os.ReadFile(out)
	if err != nil || !slices.Equal(jsonlIDs(t, string(data)), []int64{1, 3}) {
		t.Errorf("export file: %v\n%s", err, data)
	}
}

func TestAuditVerifyDetectsDeletion(t *testing.T) {
	d := startDaemon(t)
	d.writeRecords(t)
	r := d.run(t, "audit", "verify")
	if r.code != 0 || !strings.Contains(r.out, "audit trail intact: 3 record(s)") {
		t.Fatalf("intact store: code %d\n%s%s", r.code, r.out, r.err)
	}
	db, err := sql.Open("sqlite", d.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), "DELETE FROM records WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	r = d.run(t, "audit", "verify")
	r.wantOneLineError(t, ExitFailure, "verification failed")
	if !strings.Contains(r.out, "#2") {
		t.Errorf("verify does not pinpoint record #2:\n%s", r.out)
	}
	var rep audit.VerifyReport
	d.run(t, "--json", "audit", "verify").decodeJSON(t, &rep)
	if rep.OK || len(rep.Problems) == 0 {
		t.Errorf("verify --json = %+v", rep)
	}
	// Without the daemon, straight from the file.
	r = run(t, "", "--socket", "/nonexistent/admin.sock", "audit", "verify", "--db", d.dbPath)
	r.wantOneLineError(t, ExitFailure, "verification failed")
	if !strings.Contains(r.out, "#2") {
		t.Errorf("verify --db does not pinpoint record #2:\n%s", r.out)
	}
	run(t, "", "audit", "verify", "--db", d.dbPath+".missing").wantOneLineError(t, ExitFailure, "cannot open the audit database")
	if _, err := os.Stat(d.dbPath + ".missing"); err == nil {
		t.Error("verify --db created a database")
	}
}

func TestSessionsListShowReplay(t *testing.T) {
	d := startDaemon(t)
	d.writeRecords(t)
	r := d.run(t, "sessions", "list")
	if r.code != 0 || !strings.Contains(r.out, "sess-alice") || !strings.Contains(r.out, "sess-bob") {
		t.Fatalf("list: %s%s", r.out, r.err)
	}
	var list []audit.Session
	d.run(t, "--json", "sessions", "list", "--caller", "bob").decodeJSON(t, &list)
	if len(list) != 1 || list[0].ID != "sess-bob" {
		t.Errorf("--json --caller bob = %+v", list)
	}
	r = d.run(t, "sessions", "show", "sess-alice")
	if r.code != 0 || strings.Count(r.out, "hello [MASKED:aws:1]") != 2 {
		t.Errorf("show: %s%s", r.out, r.err)
	}
	r = d.run(t, "sessions", "replay", "sess-bob", "--speed", "1000")
	want := "event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	if r.code != 0 || r.out != want {
		t.Errorf("replay = %q, want the recorded events byte for byte (%s)", r.out, r.err)
	}
	d.run(t, "sessions", "replay", "sess-bob", "--speed", "0").wantOneLineError(t, ExitUsage, "--speed must be positive")
	d.run(t, "sessions", "show", "nope").wantOneLineError(t, ExitFailure, "airlock sessions list")
}

func TestAuditListSaysWhenLimited(t *testing.T) {
	d := startDaemon(t)
	d.writeRecords(t)
	r := d.run(t, "audit", "list", "--limit", "2")
	if r.code != 0 || strings.Count(r.out, "/v1/messages") != 2 || !strings.Contains(r.out, "the newest 2 records") {
		t.Errorf("--limit 2:\n%s%s", r.out, r.err)
	}
}
