package gateway

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Issue 11, item 1: the upstream never follows the client's Host,
// :authority or absolute-form URI. Each attack goes through the real TLS
// server and upstream transport (upstream.override unset) with both upstream
// protocols; the only address ever dialled is the SNI's API origin, and a
// request naming another host is answered 421 and audited.
func TestMisdirectedRequestsNeverLeaveForAnotherHost(t *testing.T) {
	for _, protocol := range []string{"h2", "http1"} {
		t.Run(protocol, func(t *testing.T) {
			s := newStack(t, allowAll, nil, protocol)
			for _, host := range []string{"evil.example", "127.0.0.1:1", "api.anthropic.com:8443", "api.anthropic.com.evil.example"} {
				for _, proto := range []string{"h2", "http1"} {
					r, _ := http.NewRequest("POST", "https://"+apiHost+"/v1/messages", strings.NewReader(messagesBody))
					r.Host = host
					r.Header.Set("X-Api-Key", clientKey)
					s.expectMisdirected(t, proto+" Host "+host, s.send(t, proto, r))
				}
			}
			for _, start := range []string{
				"POST https://evil.example/v1/messages HTTP/1.1\r\nHost: " + apiHost,
				"POST https://api.anthropic.com@evil.example/v1/messages HTTP/1.1\r\nHost: " + apiHost,
			} {
				req := start + "\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(messagesBody)) + "\r\n\r\n" + messagesBody
				s.expectMisdirected(t, start, s.sendRaw(t, req))
			}
			if n := s.up.count(); n != 0 {
				t.Fatalf("the upstream received %d misdirected requests", n)
			}
			for _, d := range s.dialed() {
				t.Errorf("the upstream transport dialled %q for a misdirected request", d)
			}
		})
	}
}

// A Host that names the SNI in another spelling (case, trailing dot, the
// default port) is the same origin and is served.
func TestHostSpellingsOfTheSNIAreServed(t *testing.T) {
	s := newStack(t, allowAll, nil, "h2")
	for _, host := range []string{"API.Anthropic.COM", "api.anthropic.com.", "api.anthropic.com:443", "Api.Anthropic.Com.:443"} {
		r, _ := http.NewRequest("POST", "https://"+apiHost+"/v1/messages", strings.NewReader(messagesBody))
		r.Host = host
		if resp := s.send(t, "http1", r); resp.StatusCode != 200 {
			t.Fatalf("Host %q: status %d", host, resp.StatusCode)
		}
		if got := s.up.last(t); got.Host != apiHost || got.Header.Get("X-Api-Key") != managedKey {
			t.Fatalf("Host %q: upstream saw Host %q", host, got.Host)
		}
	}
	for _, d := range s.dialed() {
		if d != apiHost+":443" {
			t.Fatalf("dialled %q", d)
		}
	}
}

func (s *stack) send(t *testing.T, proto string, r *http.Request) *http.Response {
	t.Helper()
	resp, err := s.client(t, proto).Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", proto, r.Host, err)
	}
	return resp
}

// sendRaw writes a hand-made HTTP/1.1 request and reads the answer.
func (s *stack) sendRaw(t *testing.T, req string) *http.Response {
	t.Helper()
	c := s.raw(t, "http/1.1")
	c.SetDeadline(time.Now().Add(time.Minute)) // a hang guard, not a speed check
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return resp
}

func (s *stack) expectMisdirected(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("%s: status %d, want 421: %s", what, resp.StatusCode, body)
	}
	if ae := decodeError(t, body); ae.Error.Type != "invalid_request_error" {
		t.Fatalf("%s: error %+v", what, ae.Error)
	}
	rec, _ := s.audit.last(t)
	if rec.Decision != "deny" || rec.Status != 421 || !strings.Contains(rec.Reason, "misdirected") {
		t.Fatalf("%s: audit record %+v", what, rec)
	}
}
