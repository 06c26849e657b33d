package approval

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
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

// A webhook that fails for a moment gets the announcement on a later try;
// one that rejects it (4xx) is tried once.
func TestWebhookRetriesTransientFailures(t *testing.T) {
	var flaky, rejecting atomic.Int32
	delivered := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/rejects" {
			rejecting.Add(1)
			http.Error(w, "no", http.StatusBadRequest)
			return
		}
		if flaky.Add(1) < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		delivered <- string(b)
	}))
	defer srv.Close()
	b := NewBroker(Config{Timeout: time.Hour, Webhooks: []Webhook{{URL: srv.URL + "/flaky"}, {URL: srv.URL + "/rejects"}}})
	b.hooks.backoff = func(int) time.Duration { return time.Millisecond }
	id, _ := holdAsync(t, b, testRequest(1000, "needs-approval"))
	select {
	case body := <-delivered:
		if !strings.Contains(body, id) {
			t.Fatalf("delivered %s, want approval %s", body, id)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the announcement never got through")
	}
	b.Close()
	if n := flaky.Load(); n != 3 {
		t.Errorf("flaky webhook tried %d times, want 3", n)
	}
	if n := rejecting.Load(); n != 1 {
		t.Errorf("a 400 was retried: %d attempts", n)
	}
}

func TestJitteredBackoffIsBounded(t *testing.T) {
	for attempt := range 10 {
		for range 100 {
			if d := jitteredBackoff(attempt); d <= 0 || d > maxBackoff+time.Millisecond {
				t.Fatalf("attempt %d: backoff %v outside (0, %v]", attempt, d, maxBackoff)
			}
		}
	}
}
