package console_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/console"
	"github.com/airlock-dev/airlock/policy/approval"
)

// holding is a queue with one held tool call dressed to read as harmless.
type holding struct{ queue }

func (*holding) List(context.Context) ([]console.Held, error) {
	return []console.Held{{Pending: approval.Pending{ID: "a1", Request: approval.Request{
		Caller: caller.Process{UID: 1000, User: "alice", Exe: "/usr/bin/\u202eexe.nohtyp"},
		Rule:   "hold-shell", Method: "POST", Path: "/v1/messages\u200b", Model: "m",
		// "\u202e" makes the browser draw what follows right to left.
		Summary: `tool call Bash {"command":"` + "\u202e" + `~ fr- mr ;olleh ohce"}` + "\x1b[8m",
	}}}}, nil
}

// The waiting page shows a reviewer the characters that would make a held
// command or its caller read differently from what they are.
func TestWaitingPageShowsHiddenCharacters(t *testing.T) {
	h, cookie, _ := signedIn(t, &holding{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, withCookie(httptest.NewRequest("GET", "https://console.test/", nil), cookie))
	page := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(page, `id="held-a1"`) {
		t.Fatalf("status %d: %s", rec.Code, page)
	}
	if strings.ContainsAny(page, "\u202e\u200b\x1b") {
		t.Fatalf("the page carries the hidden characters themselves:\n%s", page)
	}
	for _, want := range []string{`/usr/bin/\u202eexe.nohtyp`, `/v1/messages\u200b`, `{&#34;command&#34;:&#34;\u202e~ fr- mr`, `\x1b[8m`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}
