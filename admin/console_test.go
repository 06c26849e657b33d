package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

type links struct{ asked []string }

func (l *links) MintLink(who string) string {
	l.asked = append(l.asked, who)
	return "https://127.0.0.1:9443/login/link?token=FAKE"
}

// Only root on the socket gets a console sign-in link: a TCP token holder
// (or the admin group) may decide approvals but not become a reviewer.
func TestConsoleLinkIsRootOnly(t *testing.T) {
	l := &links{}
	s := NewServer(ServerConfig{SocketPath: t.TempDir() + "/a.sock", TCPAddr: "127.0.0.1:0", TCPToken: "test-token-not-secret"},
		Deps{Console: l})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := ctxT(t)
	link, err := NewClient(s.cfg.SocketPath).ConsoleLink(ctx)
	if err != nil || !strings.HasPrefix(link.URL, "https://") || len(l.asked) != 1 || !strings.Contains(l.asked[0], "uid:0") {
		t.Fatalf("root on the socket: %+v %v (asked for %q)", link, err, l.asked)
	}
	_, err = NewTCPClient("http://"+s.Addr("tcp").String(), "test-token-not-secret").ConsoleLink(ctx)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusForbidden || len(l.asked) != 1 {
		t.Fatalf("a token holder over TCP: %v", err)
	}
}

func TestConsoleLinkWithoutConsole(t *testing.T) {
	f := newFixture(t, ServerConfig{})
	_, err := f.client.ConsoleLink(ctxT(t))
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		t.Fatalf("no console: %v", err)
	}
}
