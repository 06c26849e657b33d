package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/airlock-dev/airlock/admin"
	"github.com/airlock-dev/airlock/internal/transcript"
)

const (
	reviewerEmail = "rita.reviewer@example.com"
	secretPrompt  = "summarise the deploy notes; the old key was AKIAIOSFODNN7EXAMPLE"
)

// The reviewer's whole day in a real chromium against a real daemon: an
// outsider is refused, a reviewer signs in through OIDC, sees held requests
// arrive live, approves one (the client gets its answer), denies one (the
// client's error and the audit say who and why), a forged cross-site POST
// changes nothing, and the replay shows the text the client received.
func TestConsoleInBrowser(t *testing.T) {
	b := newBed(t)
	t.Run("outsider refused", b.outsiderIsRefused)
	t.Run("reviewer signs in", b.reviewerSignsIn)
	var approvedText, approvedThinking string
	t.Run("held request appears and is approved", func(t *testing.T) { approvedText, approvedThinking = b.approve(t) })
	t.Run("deny reaches client and audit", b.deny)
	t.Run("forged cross-site post refused", b.forgedPost)
	t.Run("replay shows what the client got", func(t *testing.T) { b.replay(t, approvedText, approvedThinking) })
	t.Run("usage charts", b.usagePage)
	t.Run("approval window lets the next request through", b.window)
}

func (b *bed) outsiderIsRefused(t *testing.T) {
	// mockoidc signs in its default user (groups engineering, design) when
	// no user is queued: not a reviewer.
	b.do(t, "outsider signs in", chromedp.Navigate(b.url+"/"), chromedp.WaitVisible("#sso"))
	b.screenshot(t, "login")
	b.do(t, "outsider signs in", chromedp.Click("#sso"), chromedp.WaitVisible("main h1"))
	if got := b.text(t, "main"); !strings.Contains(got, "jane.doe@example.com is not in a reviewer group") {
		t.Fatalf("an outsider's sign-in page says %q", got)
	}
	b.do(t, "outsider retries", chromedp.Navigate(b.url+"/audit"), chromedp.WaitVisible("#sso"))
}

func (b *bed) reviewerSignsIn(t *testing.T) {
	b.idp.QueueUser(&mockoidc.MockUser{Subject: "rev-42", Email: reviewerEmail, EmailVerified: true,
		Groups: []string{"engineering", reviewerGroup}})
	b.do(t, "reviewer signs in", chromedp.Navigate(b.url+"/login"), chromedp.Click("#sso"), chromedp.WaitVisible("#reviewer"))
	if got := b.text(t, "#reviewer"); got != "oidc:"+reviewerEmail {
		t.Fatalf("signed in as %q", got)
	}
}

// waitHeld waits, on the open Waiting page, for a held request to show up
// without a reload, and returns its approval id and how long it took.
func (b *bed) waitHeld(t *testing.T, send func() <-chan answer) (string, <-chan answer, time.Duration) {
	t.Helper()
	b.do(t, "open the Waiting page", chromedp.Navigate(b.url+"/"), chromedp.WaitVisible("#none"))
	eval[bool](t, b, `window.__sameDocument = true`)
	began := time.Now()
	ans := send()
	b.do(t, "the held request appears", chromedp.WaitVisible("article.held"))
	took := time.Since(began)
	if !eval[bool](t, b, `window.__sameDocument === true`) {
		t.Fatal("the page reloaded: the held request should arrive by server-sent events")
	}
	return eval[string](t, b, `document.querySelector("article.held").dataset.id`), ans, took
}

func (b *bed) approve(t *testing.T) (string, string) {
	id, ans, took := b.waitHeld(t, func() <-chan answer { return b.send(secretPrompt) })
	t.Logf("held request %s shown %s after the client sent it", id, took.Round(time.Millisecond))
	if got := b.text(t, "article.held .rule"); got != "hold-everything" {
		t.Fatalf("rule shown %q", got)
	}
	if got := b.text(t, "article.held .excerpt"); strings.Contains(got, "AKIAIOSFODNN7EXAMPLE") || !strings.Contains(got, "[REDACTED:") ||
		!strings.Contains(got, "max_tokens: 256") || !strings.Contains(got, "user: summarise the deploy notes") {
		t.Fatalf("the excerpt must show the cap and the masked last user turn: %q", got)
	}
	b.screenshot(t, "waiting")
	b.do(t, "approve", chromedp.Click("article.held form.approve button"), chromedp.WaitVisible("#message"))
	a := wait(t, ans)
	if a.err != nil {
		t.Fatalf("the approved client got an error: %v", a.err)
	}
	text, thinking := blockText(a.msg, "text"), blockText(a.msg, "thinking")
	if !strings.HasPrefix(text, "Hello! You said: ") || thinking == "" {
		t.Fatalf("the approved client got text %q thinking %q", text, thinking)
	}
	b.do(t, "audit of the approval", chromedp.Navigate(b.url+"/audit?decision=allow"), chromedp.WaitVisible("td.approver"))
	if got := b.text(t, "td.approver"); got != "oidc:"+reviewerEmail {
		t.Fatalf("the audit names approver %q", got)
	}
	return text, thinking
}

func (b *bed) deny(t *testing.T) {
	_, ans, _ := b.waitHeld(t, func() <-chan answer { return b.send("delete the production database") })
	b.do(t, "deny", chromedp.SetValue("article.held form.deny input[name=reason]", "not during the freeze"),
		chromedp.Click("article.held form.deny button"), chromedp.WaitVisible("#message"))
	a := wait(t, ans)
	var apiErr *anthropic.Error
	if !asAPIError(a.err, &apiErr) || apiErr.StatusCode != http.StatusForbidden || !strings.Contains(a.err.Error(), "not during the freeze") {
		t.Fatalf("the denied client got %v", a.err)
	}
	b.do(t, "audit of the denial", chromedp.Navigate(b.url+"/audit?decision=approval_denied"), chromedp.WaitVisible("td.approver"))
	if got := b.text(t, "td.approver"); got != "oidc:"+reviewerEmail {
		t.Fatalf("the audit names the denial's reviewer %q", got)
	}
	b.screenshot(t, "audit")
	b.do(t, "record detail", chromedp.Click("table.records td a"), chromedp.WaitVisible("#chain"))
	if got := b.text(t, "#chain"); !strings.HasPrefix(got, "Hash chain verified") {
		t.Fatalf("chain status %q", got)
	}
	if got := b.text(t, "dd.approver"); !strings.Contains(got, "oidc:"+reviewerEmail) || !strings.Contains(got, "not during the freeze") {
		t.Fatalf("record detail approval %q", got)
	}
	b.screenshot(t, "record")
}

// forgedPost: a page on another origin of the same host (so the browser
// does send the Lax session cookie) auto-submits an approval form. The
// console refuses it and the request stays held.
func (b *bed) forgedPost(t *testing.T) {
	id, ans, _ := b.waitHeld(t, func() <-chan answer { return b.send("forged approval target") })
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><form id="f" method="post" action="%s/approvals/%s/approve"><input name="csrf" value="guessed">`+
			`<input name="window" value="8h"></form><script>document.getElementById("f").submit()</script>`, b.url, id)
	}))
	defer evil.Close()
	b.do(t, "visit the attacker's page", chromedp.Navigate(evil.URL), chromedp.WaitVisible("main h1"))
	// http to https is cross-site (schemeful same-site): the Lax session
	// cookie stays home, so the POST arrives signed out. The Origin and CSRF
	// checks behind it are tested with a cookie in TestStateChangesNeedSameOriginAndToken.
	if got := b.text(t, "main h1"); got != "Unauthorized" && got != "Forbidden" {
		t.Fatalf("the forged POST was answered %q", got)
	}
	c := admin.NewClient(b.d.Config().Admin.Socket)
	pending, err := c.Approvals(context.Background())
	if err != nil || !slices.ContainsFunc(pending, func(p approvalPending) bool { return p.ID == id }) {
		t.Fatalf("after the forged POST the request must still be held: %v %v", pending, err)
	}
	if _, err := c.Deny(context.Background(), id, "cleanup"); err != nil {
		t.Fatal(err)
	}
	if a := wait(t, ans); a.err == nil {
		t.Fatal("the forged approval let the request through")
	}
}

func (b *bed) replay(t *testing.T, text, thinking string) {
	b.do(t, "sessions", chromedp.Navigate(b.url+"/sessions"), chromedp.Click("table.sessions td a"), chromedp.WaitVisible("a.replay"))
	b.screenshot(t, "session")
	began := time.Now()
	b.do(t, "replay at the original pace", chromedp.Click("a.replay"), chromedp.WaitVisible("#done"))
	took := time.Since(began)
	b.wantPaced(t, took)
	if got := eval[string](t, b, blockJS("text")); got != text {
		t.Fatalf("the replay shows text %q, the client got %q", got, text)
	}
	if got := eval[string](t, b, blockJS("thinking")); got != thinking {
		t.Fatalf("the replay shows thinking %q, the client got %q", got, thinking)
	}
	if n := eval[int](t, b, `document.querySelectorAll("#answer mark.masked").length`); n == 0 {
		t.Fatal("the masked placeholder is not highlighted in the replay")
	}
	b.screenshot(t, "replay")
}

func (b *bed) usagePage(t *testing.T) {
	b.do(t, "usage", chromedp.Navigate(b.url+"/usage"), chromedp.WaitVisible("figure.chart svg"))
	if n := eval[int](t, b, `document.querySelectorAll("figure.chart rect").length`); n == 0 {
		t.Fatal("the usage charts draw no bars")
	}
	b.screenshot(t, "usage")
}

// window: approving for 15 minutes opens a just-in-time window, so the same
// program's next request under the same rule is answered without a hold.
func (b *bed) window(t *testing.T) {
	_, ans, _ := b.waitHeld(t, func() <-chan answer { return b.send("first of a batch") })
	b.do(t, "approve for 15 minutes", chromedp.SetValue("article.held select[name=window]", "15m"),
		chromedp.Click("article.held form.approve button"), chromedp.WaitVisible("#message"))
	if a := wait(t, ans); a.err != nil {
		t.Fatalf("the approved client got %v", a.err)
	}
	if a := wait(t, b.send("second of a batch")); a.err != nil {
		t.Fatalf("the request inside the window got %v", a.err)
	}
	b.do(t, "audit of the window", chromedp.Navigate(b.url+"/audit?decision=allow"), chromedp.WaitVisible("td.approver"))
	if got := b.text(t, "td.approver"); !strings.HasPrefix(got, "window:") {
		t.Fatalf("the newest allowed record names approver %q, want the window", got)
	}
}

// wantPaced checks the replay took at least as long as the recorded stream
// (a lower bound: a loaded machine only makes it slower).
func (b *bed) wantPaced(t *testing.T, took time.Duration) {
	t.Helper()
	u, err := url.Parse(eval[string](t, b, "location.href"))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := strconv.ParseInt(u.Query().Get("id"), 10, 64)
	e, err := admin.NewClient(b.d.Config().Admin.Socket).AuditRecord(context.Background(), id)
	if err != nil || e.Recording == nil || len(e.Recording.Events) < 3 {
		t.Fatalf("record %d: %+v, %v", id, e.Recording, err)
	}
	// The replay paces the text it shows: its last delta, not the events
	// that follow it (message_delta, message_stop) a fraction later.
	ds := transcript.Deltas(e.Recording)
	if last := ds[len(ds)-1].Offset; took < last {
		t.Fatalf("the replay took %s, the recorded stream's last delta came at %s: not at its original pace", took, last)
	}
	t.Logf("replay at the original pace took %s", took.Round(time.Millisecond))
}

// blockJS reads the text of the replayed blocks of a kind, without their labels.
func blockJS(kind string) string {
	return `Array.from(document.querySelectorAll("#answer .block.` + kind + `")).map(b => ` +
		`b.textContent.slice(b.querySelector(".kind").textContent.length)).join("")`
}

func blockText(m *anthropic.Message, typ string) string {
	var s strings.Builder
	for _, c := range m.Content {
		if c.Type == typ {
			s.WriteString(c.Text + c.Thinking)
		}
	}
	return s.String()
}

func wait(t *testing.T, ans <-chan answer) answer {
	t.Helper()
	select {
	case a := <-ans:
		return a
	case <-time.After(time.Minute):
		t.Fatal("the client got no answer")
		return answer{}
	}
}
