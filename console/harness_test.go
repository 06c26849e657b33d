package console_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/internal/config"
	"github.com/airlock-dev/airlock/internal/daemon"
	"github.com/airlock-dev/airlock/internal/fakeapi"
	"github.com/airlock-dev/airlock/internal/testutil"
	"github.com/airlock-dev/airlock/policy/approval"
)

const (
	managedKey    = "sk-ant-api03-MANAGED-FAKE-key-for-console-tests-0000"
	embeddedKey   = "sk-ant-api03-EMBEDDED-FAKE-key-of-the-app-1111"
	reviewerGroup = "airlock-reviewers"
	holdAll       = `rules:
  - id: hold-everything
    when: 'true'
    action: require_approval
    reason: every request needs a reviewer in this test
`
)

// bed is a real daemon (no capture: the client dials its TLS listener) with
// the console on, a fake upstream, a test OIDC provider and a browser.
type bed struct {
	d    *daemon.Daemon
	idp  *mockoidc.MockOIDC
	fake *fakeapi.Running
	addr string // the daemon's TLS listener
	url  string // the console
	ctx  context.Context
}

func newBed(t *testing.T) *bed {
	t.Helper()
	idp, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Shutdown() })
	b := &bed{idp: idp, fake: fakeapi.StartTLS(t, fakeapi.Config{APIKeys: []string{managedKey}})}
	b.d = startDaemon(t, b.fake, idp)
	b.addr = serveDaemon(t, b.d)
	b.url = b.d.Console().URL()
	b.ctx = startBrowser(t, b.d.Console().Certificate())
	return b
}

// serveDaemon hands the daemon a loopback listener, as capture would, with
// every connection from one program; it returns the listener's address.
func serveDaemon(t *testing.T, d *daemon.Daemon) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go d.ServeListener(ctx, ln, caller.Process{PID: os.Getpid(), UID: 1000, User: "dev", Exe: "/usr/bin/agent", Comm: "agent"})
	return ln.Addr().String()
}

func startDaemon(t *testing.T, fake *fakeapi.Running, idp *mockoidc.MockOIDC) *daemon.Daemon {
	t.Helper()
	return startHolding(t, fake, func(cfg *config.Config, dir string) {
		secret := filepath.Join(dir, "oidc.secret")
		if err := os.WriteFile(secret, []byte(idp.ClientSecret), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg.Console = config.Console{Enabled: true, Listen: "127.0.0.1:0", Reviewers: []string{reviewerGroup},
			OIDC: config.ConsoleOIDC{Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecretFile: secret, GroupsClaim: "groups"}}
	})
}

// startHolding starts a daemon (no capture) whose policy holds every
// request, with the fake upstream and the managed key; tune sets the rest.
func startHolding(t *testing.T, fake *fakeapi.Running, tune func(cfg *config.Config, dir string)) *daemon.Daemon {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{"managed.key": managedKey + "\n", "policy.yaml": holdAll} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Default()
	cfg.StateDir, cfg.RuntimeDir = filepath.Join(dir, "state"), filepath.Join(dir, "run")
	cfg.Upstream.Override, cfg.Upstream.ExtraCAFile = fake.Addr, fake.CAFile
	cfg.Credentials = []config.Credential{{Name: "default", File: filepath.Join(dir, "managed.key")}}
	cfg.Policy.File = filepath.Join(dir, "policy.yaml")
	tune(cfg, dir)
	cfg.Resolve()
	d := daemon.New(cfg, daemon.Options{NoCapture: true})
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// startBrowser runs Debian's chromium headless (as root: without its
// sandbox, in a throwaway profile), trusting exactly the console's
// self-signed certificate; it is killed when the test ends, and leaves
// nothing behind.
func startBrowser(t *testing.T, cert *x509.Certificate) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	testutil.Require(t, err == nil, "the browser tests need Debian's chromium (scripts/install-deps.sh test)")
	spki := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	tmp := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900), chromedp.DisableGPU,
		// Chromium makes its singleton socket's directory under TMPDIR and,
		// killed, leaves it there: keep it in the test's own directory.
		chromedp.Env("TMPDIR="+tmp),
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:])))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(tmp, "org.chromium.Chromium.*")); len(m) == 0 {
		t.Errorf("chromium made no singleton directory in %s: it went to the host's, and stays there", tmp)
	}
	return ctx
}

// do runs browser steps, bounded so a stuck page fails the test.
func (b *bed) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval returns a JavaScript expression's value in the current page.
func eval[T any](t *testing.T, b *bed, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// text is the visible text of the first element sel selects.
func (b *bed) text(t *testing.T, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return v
}

// screenshot saves the page under docs/console when AIRLOCK_SCREENSHOTS=1
// (make screenshots): the pictures in the README come from this test.
func (b *bed) screenshot(t *testing.T, name string) {
	t.Helper()
	if os.Getenv("AIRLOCK_SCREENSHOTS") != "1" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join("..", "docs", "console", name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// client is the official SDK with the app's embedded key, dialling the
// daemon and trusting only its CA: what an intercepted program runs.
func (b *bed) client() anthropic.Client {
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(b.d.CA().CertPEM())
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "api.anthropic.com"},
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", b.addr)
		}}
	return anthropic.NewClient(option.WithBaseURL("https://api.anthropic.com"), option.WithHTTPClient(&http.Client{Transport: tr}),
		option.WithAPIKey(embeddedKey), option.WithMaxRetries(0), option.WithRequestTimeout(3*time.Minute),
		option.WithHeader(fakeapi.HeaderScenario, fakeapi.ScenarioThinking), option.WithHeader(fakeapi.HeaderIntervalMS, "40"))
}

type answer struct {
	msg *anthropic.Message
	err error
	at  time.Time
}

// send streams one request in the background, as a held client waits.
func (b *bed) send(prompt string) <-chan answer {
	out := make(chan answer, 1)
	go func() {
		client := b.client()
		stream := client.Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{
			Model: "claude-sonnet-4-5", MaxTokens: 256,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(prompt))}})
		defer stream.Close()
		var m anthropic.Message
		for stream.Next() {
			_ = m.Accumulate(stream.Current())
		}
		out <- answer{msg: &m, err: stream.Err(), at: time.Now()}
	}()
	return out
}

type approvalPending = approval.Pending

func asAPIError(err error, target **anthropic.Error) bool { return errors.As(err, target) }
