package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/internal/fakeapi"
	"github.com/airlock-dev/airlock/internal/testutil"
)

// hostTrust is what a trust install would change on the host, by content hash.
type hostTrust map[string]string

// hostTrustAtStart is the host's trust state when the test binary started,
// before any test (or the shared trust layer) could touch it.
var hostTrustAtStart = hostTrustState()

// hostTrustState hashes the host's system bundle and lists (with hashes) the
// directories `airlock trust install` writes to: none may change.
func hostTrustState() hostTrust {
	st := hostTrust{}
	st.add("/etc/ssl/certs/ca-certificates.crt")
	for _, dir := range []string{"/usr/local/share/ca-certificates", "/etc/profile.d", "/etc/environment.d"} {
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				st.add(p)
			}
			return nil
		})
	}
	return st
}

func (st hostTrust) add(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		st[path] = "unreadable: " + err.Error()
		return
	}
	st[path] = hexSHA256(b)
}

func (st hostTrust) String() string {
	var lines []string
	for p, h := range st {
		lines = append(lines, p+" "+h)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func assertHostTrustUnchanged(t *testing.T, before hostTrust) {
	t.Helper()
	if after := hostTrustState(); after.String() != before.String() {
		t.Errorf("the host's trust store changed during the tests:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// testSandboxOnlyTrust proves the clients' trust was provisioned, and only in
// the sandbox: there the system bundle differs from the host's and
// /usr/local/share/ca-certificates holds a file the host lacks (by content).
func testSandboxOnlyTrust(t *testing.T, h *Harness, host hostTrust) {
	res := h.Run(t, "sh", "-c", "sha256sum /etc/ssl/certs/ca-certificates.crt /usr/local/share/ca-certificates/*")
	if res.Code != 0 {
		t.Fatalf("sandbox: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	bundle := strings.Fields(lines[0])
	if bundle[0] == host["/etc/ssl/certs/ca-certificates.crt"] {
		t.Fatal("the sandbox's system bundle is the host's: trust install provisioned nothing")
	}
	for _, line := range lines[1:] {
		if f := strings.Fields(line); len(f) == 2 && host[f[1]] != f[0] {
			return
		}
	}
	t.Fatalf("every CA file in the sandbox is also on the host, unchanged:\n%s", res.Stdout)
}

// testTrustControls replaces the provisioned trust with an unrelated CA for
// one run: Node and the Go client then refuse Airlock's leaf, so what made
// them trust it before was the drop-in, and neither skips verification.
func testTrustControls(t *testing.T, h *Harness) {
	h.Upstream.Reset()
	_, otherCA := testutil.SelfSignedCert(t, []string{APIHost}, loopbackIPs, testutil.CommonName("Unrelated Test CA"))
	caFile := writeTempFile(t, "unrelated-ca.pem", string(otherCA))
	res := h.RunEnv(t, []string{"NODE_EXTRA_CA_CERTS=" + caFile}, "node", "-e", nodeScript, tlsMessageBody("x"), leakedNodeKey)
	if res.Code != 3 || !strings.Contains(strings.ToLower(res.Stderr), "certificate") {
		t.Errorf("node with an unrelated NODE_EXTRA_CA_CERTS: exit %d, want 3 and a certificate error\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	// Go reads SSL_CERT_DIR (default /etc/ssl/certs) besides SSL_CERT_FILE.
	env := []string{"SSL_CERT_FILE=" + caFile, "SSL_CERT_DIR=" + t.TempDir()}
	res = runGoClient(t, h, env, "2", "/v1/messages", writeTempFile(t, "b.json", tlsMessageBody("x")))
	if res.Code != 1 || !strings.Contains(res.Stderr, "certificate signed by unknown authority") {
		t.Errorf("go client with an unrelated SSL_CERT_FILE: exit %d, want 1 and an unknown-authority error\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	if n := len(h.Upstream.Requests()); n != 0 {
		t.Errorf("upstream received %d requests from clients that refused the leaf", n)
	}
}

// countTokensBody is a count_tokens request of exactly size bytes whose text
// never repeats (numbered words), so any loss or reordering changes its hash.
func countTokensBody(size int) []byte {
	head := `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"`
	tail := `"}]}`
	b := make([]byte, 0, size+16)
	b = append(b, head...)
	for i := 0; len(b) < size-len(tail); i++ {
		b = fmt.Appendf(b, "w%08d ", i)
	}
	b = append(b[:size-len(tail)], tail...)
	return b
}

// testLargeBody sends just under the 32 MiB body limit, with the Go client
// over HTTP/2 or curl over HTTP/1.1, and checks the upstream received it
// byte for byte and the client got the answer.
func testLargeBody(t *testing.T, h *Harness, proto string) {
	h.Upstream.Reset()
	body := countTokensBody(fakeapi.MaxBodyBytes - 4096)
	file := filepath.Join(t.TempDir(), "large.json")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	status, answer := postLarge(t, h, proto, file)
	var counted struct {
		InputTokens int `json:"input_tokens"`
	}
	if err := json.Unmarshal([]byte(answer), &counted); status != "200" || err != nil || counted.InputTokens <= 0 {
		t.Fatalf("count_tokens over HTTP/%s: status %s, body %q", proto, status, answer)
	}
	got := h.Upstream.Requests()
	if len(got) != 1 {
		t.Fatalf("upstream received %d requests, want 1", len(got))
	}
	if len(got[0].Body) != len(body) || hexSHA256(got[0].Body) != hexSHA256(body) {
		t.Fatalf("upstream body: %d bytes sha256 %s, sent %d bytes sha256 %s",
			len(got[0].Body), hexSHA256(got[0].Body), len(body), hexSHA256(body))
	}
}

// postLarge posts the file to count_tokens and returns the status and body.
func postLarge(t *testing.T, h *Harness, proto, file string) (status, body string) {
	t.Helper()
	if proto == "2" {
		res := runGoClient(t, h, nil, "2", "/v1/messages/count_tokens", file)
		if res.Code != 0 {
			t.Fatalf("go client: exit %d\n%s\n%s\ndaemon:\n%s", res.Code, res.Stdout, res.Stderr, logTail(h.Log()))
		}
		var out goResult
		res.JSON(t, &out)
		return fmt.Sprint(out.Status), out.Body
	}
	res := h.Run(t, "curl", "-sS", "--max-time", "120", "--http1.1", "https://"+APIHost+"/v1/messages/count_tokens",
		"-H", "x-api-key: "+leakedCurlKey, "-H", "anthropic-version: 2023-06-01", "-H", "content-type: application/json",
		"--data-binary", "@"+file, "-w", "\n%{http_code}")
	if res.Code != 0 {
		t.Fatalf("curl: exit %d\n%s\ndaemon:\n%s", res.Code, res.Stderr, logTail(h.Log()))
	}
	body, status = curlWriteOut(t, res)
	return status, body
}

// The long scenario's text: tlsLoremWords repeated to events*size bytes (as
// internal/fakeapi builds it), cut into deltas of size bytes.
const (
	longEvents    = 20000
	longDeltaSize = 50
	tlsLoremWords = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua "
)

func tlsLoremText(n int) string {
	return strings.Repeat(tlsLoremWords, n/len(tlsLoremWords)+1)[:n]
}

// testLongStream streams ~1 MB of text in 20,000 text deltas and checks every
// delta arrived, in order, and the stream ended with message_stop.
func testLongStream(t *testing.T, h *Harness) {
	h.Upstream.Reset()
	body := `{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"a long one"}]}`
	res := h.Run(t, "curl", curlMessages(body, "-N", "-H", "x-fake-scenario: long",
		"-H", fmt.Sprintf("x-fake-events: %d", longEvents), "-H", fmt.Sprintf("x-fake-delta-size: %d", longDeltaSize))...)
	if res.Code != 0 {
		t.Fatalf("curl: exit %d\n%s\ndaemon:\n%s", res.Code, res.Stderr, logTail(h.Log()))
	}
	// The response masker may re-cut deltas (it holds back what could still
	// become part of a match), so the text is compared, not the delta count.
	text, deltas, last := streamedText(t, res.Stdout)
	if want := tlsLoremText(longEvents * longDeltaSize); text != want || last != "message_stop" || deltas < 2 {
		t.Fatalf("stream: %d bytes of text in %d deltas ending with %q; want the %d bytes sent, streamed, ending with message_stop",
			len(text), deltas, last, len(want))
	}
	t.Logf("%d bytes of text arrived intact in %d text deltas (upstream sent %d)", len(text), deltas, longEvents)
	h.AssertUpstreamGotOnlyManagedKey(t, 1, leakedCurlKey)
}

// streamedText concatenates the text deltas of an SSE stream and returns their
// number and the type of the last event.
func streamedText(t *testing.T, stream string) (text string, deltas int, last string) {
	t.Helper()
	var b strings.Builder
	for _, line := range strings.Split(stream, "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Type  string `json:"type"`
			Delta struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"delta"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("stream event is not JSON: %v: %q", err, data)
		}
		if ev.Type == "content_block_delta" && ev.Delta.Type == "text_delta" {
			b.WriteString(ev.Delta.Text)
			deltas++
		}
		last = ev.Type
	}
	return b.String(), deltas, last
}

// logTail is the end of a long daemon log, for failure messages.
func logTail(log string) string {
	const n = 8 << 10
	if len(log) > n {
		return "...\n" + log[len(log)-n:]
	}
	return log
}
