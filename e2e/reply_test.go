package e2e

import (
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
)

// curlExchange is one HTTP exchange as curl -i printed it inside the sandbox.
type curlExchange struct {
	PID    int         // curl's pid (the shell execs curl, so the pid is the caller's)
	Status int         // of the last header block (a 100 Continue is skipped)
	Header http.Header // canonical names
	Body   string
	All    string // everything the client printed, stdout and stderr
}

// curlReply runs `curl -sS -i` through a shell that prints its pid and then
// execs curl (same pid, comm "curl"), and splits the answer. It fails t when
// curl itself fails: every exchange here gets an HTTP answer.
func curlReply(t *testing.T, h *Harness, args ...string) curlExchange {
	t.Helper()
	script := `echo "$$"; exec curl -sS -i --max-time 30 "$@"`
	res := h.Run(t, "sh", append([]string{"-c", script, "sh"}, args...)...)
	if res.Code != 0 {
		t.Fatalf("curl: exit %d\nstdout: %s\nstderr: %s\ndaemon log:\n%s", res.Code, res.Stdout, res.Stderr, h.Log())
	}
	r := parseCurlExchange(t, res.Stdout)
	r.All = res.Stdout + res.Stderr
	return r
}

// parseCurlExchange splits "PID\n" + curl -i output into status, header and body.
func parseCurlExchange(t *testing.T, out string) curlExchange {
	t.Helper()
	pidLine, rest, _ := strings.Cut(out, "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(pidLine))
	if err != nil {
		t.Fatalf("no pid line in client output: %q", out)
	}
	r := curlExchange{PID: pid}
	for {
		head, body, ok := strings.Cut(rest, "\r\n\r\n")
		if !ok {
			t.Fatalf("no HTTP header block in client output: %q", out)
		}
		r.Status, r.Header = parseCurlHead(t, head)
		rest, r.Body = body, body
		if r.Status != http.StatusContinue {
			return r
		}
	}
}

func parseCurlHead(t *testing.T, head string) (int, http.Header) {
	t.Helper()
	lines := strings.Split(head, "\r\n")
	fields := strings.Fields(lines[0]) // "HTTP/2 200" or "HTTP/1.1 200 OK"
	if len(fields) < 2 || !strings.HasPrefix(fields[0], "HTTP/") {
		t.Fatalf("bad status line %q", lines[0])
	}
	status, err := strconv.Atoi(fields[1])
	if err != nil {
		t.Fatalf("bad status line %q", lines[0])
	}
	hdr := http.Header{}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("bad header line %q", l)
		}
		hdr.Add(textproto.CanonicalMIMEHeaderKey(name), strings.TrimSpace(value))
	}
	return status, hdr
}

// apiHostURL is the real API's URL for path: the sandbox resolves the host to the
// loopback target the eBPF hooks redirect.
func apiHostURL(path string) string { return "https://" + APIHost + path }

// curlMessagesArgs are curl arguments for a Messages request with body sent as is.
func curlMessagesArgs(body string, headers ...string) []string {
	args := []string{apiHostURL("/v1/messages"), "-H", "anthropic-version: 2023-06-01",
		"-H", "content-type: application/json", "--data-binary", body}
	for _, hd := range headers {
		args = append(args, "-H", hd)
	}
	return args
}

// assertNoManagedKey fails when the managed credential appears in anything the
// client printed (headers, body, curl's own errors) or in the daemon's log.
func assertNoManagedKey(t *testing.T, h *Harness, what string, r curlExchange, keys ...string) {
	t.Helper()
	for _, k := range append([]string{ManagedKey}, keys...) {
		if strings.Contains(r.All, k) {
			t.Errorf("%s: the client saw the managed credential:\n%s", what, r.All)
		}
		if h.LogContains(k) {
			t.Errorf("%s: the daemon logged the managed credential", what)
		}
	}
}
