package gateway

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/internal/testutil"
)

// A client that goes away mid-stream still leaves an audit record.
func TestClientDisconnectStillAudited(t *testing.T) {
	h := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, strings.SplitAfter(sseResponse, "\n\n")[0])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // until the gateway cancels the upstream request
	}
	e := newEnv(t, allowAll, h)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.gw.ServeHTTP(w, withOrigin(r, &caller.Origin{}))
	}))
	defer srv.Close()
	r, _ := http.NewRequest("POST", srv.URL+"/v1/messages", strings.NewReader(`{"model":"m","max_tokens":1,"stream":true}`))
	r.Host = apiHost
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(resp.Body).ReadString('\n')
	if line != "event: message_start\n" {
		t.Fatalf("first line %q", line)
	}
	resp.Body.Close()
	testutil.Eventually(t, 30*time.Second, "an audit record after the client went away", func() bool { // a hang guard only
		e.audit.mu.Lock()
		defer e.audit.mu.Unlock()
		return len(e.audit.recs) > 0
	})
	if rec, _ := e.audit.last(t); rec.InputTokens != 12 || rec.Decision != "allow" {
		t.Errorf("record %+v", rec)
	}
}
