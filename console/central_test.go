package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/audit/central"
	"github.com/airlock-dev/airlock/console"
	"github.com/airlock-dev/airlock/internal/config"
	"github.com/airlock-dev/airlock/internal/daemon"
	"github.com/airlock-dev/airlock/internal/fakeapi"
	"github.com/airlock-dev/airlock/internal/testutil"
)

// The fleet console (airlock console --central) against a real PostgreSQL
// and a real daemon that publishes its holds there: the hold shows up with
// its host, a reviewer's approval in the console reaches the held client,
// and the shipped record is searchable by host, with its reviewer (named
// central:<who> by the holding host, beside the database role the console
// decided as), its chain status (an edit made in the
// database is named), an export and the usage charts.
func TestFleetConsoleDecidesForAHost(t *testing.T) {
	pg := testutil.StartPostgres(t)
	fake := fakeapi.StartTLS(t, fakeapi.Config{APIKeys: []string{managedKey}})
	d := startFleetDaemon(t, fake, pg.URL, "web-7")
	db, err := central.Open(context.Background(), central.Config{URL: pg.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	q, src := console.Central(db)
	h, cookie, token := signedInTo(t, console.Config{}, q, src)
	get := func(path string) string { return fetch(t, h, cookie, path) }

	b := &bed{d: d, addr: serveDaemon(t, d)}
	ans := b.send(secretPrompt)
	var id string
	testutil.Eventually(t, 30*time.Second, "the hold published centrally shows in the fleet console", func() bool {
		page := get("/")
		_, after, ok := strings.Cut(page, `data-id="`)
		id, _, _ = strings.Cut(after, `"`)
		return ok && strings.Contains(page, "<dt>Host</dt><dd>web-7</dd>")
	})
	post(t, h, cookie, "/approvals/"+id+"/approve", "csrf="+token, http.StatusSeeOther)
	if a := wait(t, ans); a.err != nil {
		t.Fatalf("the client held on web-7 got %v after the fleet console approved", a.err)
	}
	var rec string
	testutil.Eventually(t, 30*time.Second, "the shipped record, with its reviewer", func() bool {
		rec = get("/audit?host=web-7&decision=allow")
		return strings.Contains(rec, `class="approver">central:link:uid:0(root) (as database role airlock)</td>`)
	})
	if page := get("/audit/record?host=web-7&id=1"); !strings.Contains(page, "Hash chain verified") {
		t.Fatalf("the record's chain status: %s", page)
	}
	pg.Psql(t, `UPDATE records SET body = convert_to(replace(convert_from(body, 'UTF8'), '"status":200', '"status":201'), 'UTF8') WHERE host = 'web-7' AND seq = 1`)
	if page := get("/audit/record?host=web-7&id=1"); !strings.Contains(page, "this record is NOT intact") {
		t.Fatalf("an edited central record's chain status: %s", page)
	}
	if out := get("/audit/export?host=web-7"); strings.Count(out, `"host":"web-7"`) != 1 {
		t.Fatalf("export: %s", out)
	}
	if page := get("/audit?host=db-2"); strings.Contains(page, "/audit/record?") {
		t.Fatalf("a search for another host shows records: %s", page)
	}
	if page := get("/usage"); !strings.Contains(page, "<rect") {
		t.Fatal("the fleet's usage charts are empty")
	}
}

func startFleetDaemon(t *testing.T, fake *fakeapi.Running, url, host string) *daemon.Daemon {
	t.Helper()
	return startHolding(t, fake, func(cfg *config.Config, _ string) {
		cfg.Audit.Central = config.CentralStore{URL: url, HostID: host}
		cfg.Approvals.Central = true
	})
}

func fetch(t *testing.T, h http.Handler, c *http.Cookie, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, withCookie(httptest.NewRequest("GET", "https://console.test"+path, nil), c))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.Code, body)
	}
	return string(body)
}

func post(t *testing.T, h http.Handler, c *http.Cookie, path, form string, want int) {
	t.Helper()
	r := withCookie(httptest.NewRequest("POST", "https://console.test"+path, strings.NewReader(form)), c)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != want {
		t.Fatalf("POST %s: %d, want %d: %s", path, rec.Code, want, rec.Body)
	}
}
