package approval

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestWebhooksAnnounceWithCommand(t *testing.T) {
	bodies := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- r.URL.Path + " " + string(b)
	}))
	defer srv.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer failing.Close()
	b := NewBroker(Config{Timeout: time.Hour, Webhooks: []Webhook{
		{URL: srv.URL + "/json"}, {URL: srv.URL + "/slack", Format: "slack"},
		{URL: failing.URL}, {URL: "http://127.0.0.1:1/unreachable"},
	}})
	defer b.Close()
	id, ch := holdAsync(t, b, testRequest(1000, "needs-approval"))
	got := map[string]string{}
	for len(got) < 2 {
		select {
		case s := <-bodies:
			path, body, _ := strings.Cut(s, " ")
			got[path] = body
		case <-time.After(30 * time.Second):
			t.Fatal("webhooks not delivered")
		}
	}
	var a Announcement
	if err := json.Unmarshal([]byte(got["/json"]), &a); err != nil || a.Pending.ID != id ||
		a.Pending.Command != "airlock approvals approve "+id || a.Pending.Request.Rule != "needs-approval" {
		t.Fatalf("json webhook = %s (%v)", got["/json"], err)
	}
	var slack map[string]string
	if err := json.Unmarshal([]byte(got["/slack"]), &slack); err != nil || len(slack) != 1 ||
		!strings.Contains(slack["text"], "airlock approvals approve "+id) {
		t.Fatalf("slack webhook = %s (%v)", got["/slack"], err)
	}
	// Failing webhooks did not block the hold: it is still decidable.
	if err := b.Approve(id, "root", "", 0); err != nil {
		t.Fatal(err)
	}
	if r := wait(t, ch); !r.out.Approved {
		t.Fatalf("outcome = %+v", r.out)
	}
}

func TestWebhookBodyUnknownFormat(t *testing.T) {
	if _, err := WebhookBody("xml", Pending{}); err == nil {
		t.Fatal("unknown format accepted")
	}
}
