package e2e

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The TLS end-to-end tests (issue 3): unmodified clients complete TLS with
// Airlock's leaf through the capture path, trusting the CA only through what
// `airlock trust install` provisioned in the sandbox, and reach the fake
// upstream; bad clients and a bad upstream fail loudly while the daemon keeps
// serving; the host's trust store is never touched. One daemon serves every
// subtest but the untrusted-upstream one, which needs its own override.
func TestTLS(t *testing.T) {
	before := hostTrustAtStart
	t.Cleanup(func() { assertHostTrustUnchanged(t, before) }) // runs last: after every daemon stopped
	h := Start(t, Options{Timeout: 2 * time.Minute})          // hang guard: 32 MiB bodies on a busy machine
	ca := airlockCA(t, h)
	t.Run("SandboxTrustsButHostDoesNot", func(t *testing.T) { testSandboxOnlyTrust(t, h, before) })
	t.Run("CurlHTTP1", func(t *testing.T) { testCurlProto(t, h, ca, "--http1.1", "1.1") })
	t.Run("CurlHTTP2", func(t *testing.T) { testCurlProto(t, h, ca, "--http2", "2") })
	t.Run("NodeHTTPS", func(t *testing.T) { testNodeHTTPS(t, h, ca) })
	t.Run("GoHTTP1", func(t *testing.T) { testGoProto(t, h, ca, "1.1", "HTTP/1.1", "http/1.1") })
	t.Run("GoHTTP2", func(t *testing.T) { testGoProto(t, h, ca, "2", "HTTP/2.0", "h2") })
	t.Run("TrustComesFromProvisioning", func(t *testing.T) { testTrustControls(t, h) })
	t.Run("LargeRequestBodyHTTP2", func(t *testing.T) { testLargeBody(t, h, "2") })
	t.Run("LargeRequestBodyHTTP1", func(t *testing.T) { testLargeBody(t, h, "1.1") })
	t.Run("LongStreamedResponse", func(t *testing.T) { testLongStream(t, h) })
	for _, c := range badClients(t) {
		t.Run("Refused"+c.name, func(t *testing.T) { testBadClient(t, h, c) })
	}
	t.Run("PinningClientRefusedTLS12", func(t *testing.T) { testPinningClient(t, h, "--tls-max", "1.2") })
	t.Run("PinningClientRefusedTLS13", func(t *testing.T) { testPinningClient(t, h, "--tlsv1.3") })
	t.Run("UntrustedUpstreamIs502", testUntrustedUpstream)
}

// tlsMessageBody is a small Messages request whose answer quotes the prompt.
func tlsMessageBody(prompt string) string {
	return `{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"` + prompt + `"}]}`
}

// assertMessageQuotes checks an API answer is a message quoting prompt.
func assertMessageQuotes(t *testing.T, body, prompt string) {
	t.Helper()
	var msg struct {
		Type    string `json:"type"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal([]byte(body), &msg); err != nil || msg.Type != "message" || len(msg.Content) == 0 ||
		!strings.Contains(msg.Content[0].Text, prompt) {
		t.Fatalf("client got %q (%v), want a message quoting %q", body, err, prompt)
	}
}

// assertUpstreamGot checks the fake API received exactly one request, for
// path, with the managed key only and the body the client sent.
func assertUpstreamGot(t *testing.T, h *Harness, path, body, leaked string) {
	t.Helper()
	h.AssertUpstreamGotOnlyManagedKey(t, 1, leaked)
	r := h.Upstream.Requests()[0]
	if r.Path != path || r.Method != "POST" || string(r.Body) != body {
		t.Fatalf("upstream got %s %s with body %q, want POST %s with %q", r.Method, r.Path, r.Body, path, body)
	}
}

// airlockCA is the certificate of the CA the daemon signs leaves with.
func airlockCA(t *testing.T, h *Harness) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h.StateDir, "ca", "ca.crt"))
	if err != nil {
		t.Fatalf("reading the daemon's CA: %v", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("the daemon's ca.crt holds no PEM block")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// assertAirlockLeaf checks the certificate a client saw was minted by
// Airlock's CA for the API host, and not by the fake upstream's CA (which
// would mean the connection bypassed the interceptor).
func assertAirlockLeaf(t *testing.T, h *Harness, ca *x509.Certificate, der []byte) {
	t.Helper()
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("the client reported no parsable leaf: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: APIHost}); err != nil {
		t.Fatalf("leaf (subject %s, issuer %s) does not verify against Airlock's CA for %s: %v", leaf.Subject, leaf.Issuer, APIHost, err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: h.Upstream.Pool, DNSName: APIHost}); err == nil {
		t.Fatal("the client saw the fake upstream's own certificate: the connection was not intercepted")
	}
}

// curlWriteOut splits the stdout of `curl -w "\n..."` into the body and the
// write-out line (e.g. "<http_version> <http_code>").
func curlWriteOut(t *testing.T, res Result) (body, writeOut string) {
	t.Helper()
	i := strings.LastIndex(res.Stdout, "\n")
	if i < 0 {
		t.Fatalf("curl output lacks the write-out line:\n%s\n%s", res.Stdout, res.Stderr)
	}
	return res.Stdout[:i], res.Stdout[i+1:]
}

// assertCurlSawAirlockLeaf checks `curl -v` verified a leaf for the API host
// issued by Airlock's CA.
func assertCurlSawAirlockLeaf(t *testing.T, verbose string, ca *x509.Certificate) {
	t.Helper()
	var subject, issuer string
	for _, line := range strings.Split(verbose, "\n") {
		if _, v, ok := strings.Cut(line, "subject: "); ok && subject == "" {
			subject = v
		}
		if _, v, ok := strings.Cut(line, "issuer: "); ok && issuer == "" {
			issuer = v
		}
	}
	if subject != "CN="+APIHost || !strings.Contains(issuer, "CN="+ca.Subject.CommonName) ||
		!strings.Contains(verbose, "SSL certificate verify ok") {
		t.Fatalf("curl saw leaf %q issued by %q, want CN=%s issued by %q and verified\n%s", subject, issuer, APIHost, ca.Subject.CommonName, verbose)
	}
}

func testCurlProto(t *testing.T, h *Harness, ca *x509.Certificate, flag, wantVersion string) {
	h.Upstream.Reset()
	prompt := "hello over curl " + flag
	body := tlsMessageBody(prompt)
	res := h.Run(t, "curl", curlMessages(body, "-v", flag, "-w", "\n%{http_version} %{http_code}")...)
	if res.Code != 0 {
		t.Fatalf("curl %s: exit %d\n%s\n%s\ndaemon:\n%s", flag, res.Code, res.Stdout, res.Stderr, h.Log())
	}
	got, writeOut := curlWriteOut(t, res)
	if writeOut != wantVersion+" 200" {
		t.Fatalf("curl %s: http_version and status %q, want %q\n%s", flag, writeOut, wantVersion+" 200", res.Stderr)
	}
	assertMessageQuotes(t, got, prompt)
	assertCurlSawAirlockLeaf(t, res.Stderr, ca)
	assertUpstreamGot(t, h, "/v1/messages", body, leakedCurlKey)
}

// nodeScript is a plain Node https client: no CA in code, so it trusts
// Airlock's CA only through NODE_EXTRA_CA_CERTS from the provisioned drop-in.
const nodeScript = `
const https = require('https');
const [body, key] = process.argv.slice(1);
const req = https.request('https://api.anthropic.com/v1/messages', {method: 'POST', headers: {
  'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json',
  'content-length': Buffer.byteLength(body)}}, res => {
  const cert = res.socket.getPeerCertificate();
  const out = {status: res.statusCode, http_version: res.httpVersion, tls_version: res.socket.getProtocol(),
    leaf: cert.raw.toString('base64'), body: ''};
  res.setEncoding('utf8');
  res.on('data', c => { out.body += c; });
  res.on('end', () => { console.log(JSON.stringify(out)); process.exit(0); });
});
req.on('error', e => { console.error('node https: ' + (e.code || '') + ' ' + e.message); process.exit(3); });
req.end(body);
`

// nodeResult is what nodeScript prints.
type nodeResult struct {
	Status      int    `json:"status"`
	HTTPVersion string `json:"http_version"`
	TLSVersion  string `json:"tls_version"`
	Leaf        []byte `json:"leaf"`
	Body        string `json:"body"`
}

const leakedNodeKey = "sk-ant-api03-FAKE-leaked-key-in-node-script"

func testNodeHTTPS(t *testing.T, h *Harness, ca *x509.Certificate) {
	h.Upstream.Reset()
	prompt := "hello from node https"
	body := tlsMessageBody(prompt)
	res := h.Run(t, "node", "-e", nodeScript, body, leakedNodeKey)
	if res.Code != 0 {
		t.Fatalf("node: exit %d\n%s\n%s\ndaemon:\n%s", res.Code, res.Stdout, res.Stderr, h.Log())
	}
	var out nodeResult
	res.JSON(t, &out)
	if out.Status != 200 || out.HTTPVersion != "1.1" || !strings.HasPrefix(out.TLSVersion, "TLSv1.") {
		t.Fatalf("node: status %d, HTTP/%s over %s", out.Status, out.HTTPVersion, out.TLSVersion)
	}
	assertMessageQuotes(t, out.Body, prompt)
	assertAirlockLeaf(t, h, ca, out.Leaf)
	assertUpstreamGot(t, h, "/v1/messages", body, leakedNodeKey)
}

// goResult is what e2e/testdata/tlsclient prints.
type goResult struct {
	Status     int    `json:"status"`
	Proto      string `json:"proto"`
	TLSVersion string `json:"tls_version"`
	ALPN       string `json:"alpn"`
	Leaf       []byte `json:"leaf"`
	Issuer     string `json:"issuer"`
	BodyLen    int    `json:"body_len"`
	BodySHA256 string `json:"body_sha256"`
	Body       string `json:"body"`
}

const leakedGoKey = "sk-ant-api03-FAKE-leaked-key-in-go-net-http"

// tlsClient builds e2e/testdata/tlsclient once per test binary.
func tlsClient(t *testing.T) string { return testdataCommand(t, "tlsclient") }

// testdataBuilds are the commands of e2e/testdata built so far, by name.
var testdataBuilds sync.Map // name -> *testdataBuild

type testdataBuild struct {
	once sync.Once
	path string
	err  error
}

// testdataCommand builds e2e/testdata/<name> once per test binary.
func testdataCommand(t *testing.T, name string) string {
	t.Helper()
	v, _ := testdataBuilds.LoadOrStore(name, &testdataBuild{})
	b := v.(*testdataBuild)
	b.once.Do(func() {
		b.path = filepath.Join(bins.Dir, name)
		cmd := exec.Command("go", "build", "-o", b.path, "./e2e/testdata/"+name)
		cmd.Dir = moduleRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = &buildError{err: err, out: string(out)}
		}
	})
	if b.err != nil {
		t.Fatalf("building e2e/testdata/%s: %v", name, b.err)
	}
	return b.path
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// runGoClient runs the Go client: proto "1.1" or "2", a POST of the file's
// content to path with the given extra headers.
func runGoClient(t *testing.T, h *Harness, env []string, proto, path, bodyFile string, hdrs ...string) Result {
	t.Helper()
	args := []string{"-http", proto, "-X", "POST", "-data-file", bodyFile,
		"-H", "x-api-key: " + leakedGoKey, "-H", "anthropic-version: 2023-06-01", "-H", "content-type: application/json"}
	for _, hd := range hdrs {
		args = append(args, "-H", hd)
	}
	return h.RunEnv(t, env, tlsClient(t), append(args, "https://"+APIHost+path)...)
}

func writeTempFile(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	writeFile(t, p, data, 0o644)
	return p
}

func testGoProto(t *testing.T, h *Harness, ca *x509.Certificate, proto, wantProto, wantALPN string) {
	h.Upstream.Reset()
	prompt := "hello from go net/http " + proto
	body := tlsMessageBody(prompt)
	res := runGoClient(t, h, nil, proto, "/v1/messages", writeTempFile(t, "body.json", body))
	if res.Code != 0 {
		t.Fatalf("go client: exit %d\n%s\n%s\ndaemon:\n%s", res.Code, res.Stdout, res.Stderr, h.Log())
	}
	var out goResult
	res.JSON(t, &out)
	if out.Status != 200 || out.Proto != wantProto || out.ALPN != wantALPN {
		t.Fatalf("go client: status %d, %s (ALPN %q) over %s; want 200, %s (ALPN %q)", out.Status, out.Proto, out.ALPN, out.TLSVersion, wantProto, wantALPN)
	}
	if out.Issuer != ca.Subject.String() {
		t.Fatalf("go client: leaf issuer %q, want Airlock's CA %q", out.Issuer, ca.Subject)
	}
	assertMessageQuotes(t, out.Body, prompt)
	assertAirlockLeaf(t, h, ca, out.Leaf)
	assertUpstreamGot(t, h, "/v1/messages", body, leakedGoKey)
}
