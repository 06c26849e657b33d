package daemon

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/admin"
	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/internal/config"
	"github.com/airlock-dev/airlock/internal/fakeapi"
	"github.com/airlock-dev/airlock/internal/testutil"
)

const (
	managedKey  = "sk-ant-api03-MANAGED-FAKE-key-for-daemon-tests-0000"
	rotatedKey  = "opaque-ROTATED-FAKE-value-no-detector-knows-1111" // only the managed-value detector masks it
	embeddedKey = "sk-ant-api03-EMBEDDED-FAKE-key-of-the-app-2222"
)

// running is a daemon without capture, served on a loopback listener.
type running struct {
	d       *Daemon
	addr    string
	keyFile string
	fake    *fakeapi.Running
}

func startDaemon(t *testing.T) *running {
	t.Helper()
	fake := fakeapi.StartTLS(t, fakeapi.Config{APIKeys: []string{managedKey, rotatedKey}})
	dir := t.TempDir()
	r := &running{fake: fake, keyFile: filepath.Join(dir, "managed.key")}
	if err := os.WriteFile(r.keyFile, []byte(managedKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.StateDir, cfg.RuntimeDir = filepath.Join(dir, "state"), filepath.Join(dir, "run")
	cfg.Upstream.Override, cfg.Upstream.ExtraCAFile = fake.Addr, fake.CAFile
	cfg.Credentials = []config.Credential{{Name: "default", File: r.keyFile}}
	cfg.Resolve()
	r.d = New(cfg, Options{NoCapture: true})
	if err := r.d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.d.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	go r.d.ServeListener(context.Background(), ln, caller.Process{PID: os.Getpid(), Comm: "daemon.test"})
	return r
}

// post sends a Messages request with the app's embedded key, trusting only
// the daemon's CA, and returns the answer's status.
func (r *running) post(t *testing.T, prompt string) int {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(r.d.CA().CertPEM())
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "api.anthropic.com"},
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", r.addr)
		}}
	defer tr.CloseIdleConnections()
	body := `{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"` + prompt + `"}]}`
	req, _ := http.NewRequest("POST", "https://api.anthropic.com/v1/messages", strings.NewReader(body))
	req.Header.Set("x-api-key", embeddedKey)
	req.Header.Set("anthropic-version", "2023-06-01")
	req.Header.Set("content-type", "application/json")
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// The assembled daemon substitutes the managed key, audits through the
// admin API, and keeps its masker subscribed to the credentials: a key
// rotated on disk (no SIGHUP) is used upstream and masked in prompts.
func TestDaemonServesTheDataPath(t *testing.T) {
	r := startDaemon(t)
	if code := r.post(t, "hello"); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if got := r.fake.Requests()[0].Header.Get("x-api-key"); got != managedKey {
		t.Fatalf("upstream x-api-key %q, want the managed key", got)
	}
	recs, err := admin.NewClient(r.d.Config().Admin.Socket).Audit(context.Background(), audit.Filter{})
	if err != nil || len(recs) != 1 {
		t.Fatalf("audit through the admin API: %d records, %v", len(recs), err)
	}
	st, err := admin.NewClient(r.d.Config().Admin.Socket).Status(context.Background())
	if err != nil || st.Capture.Enabled || len(st.Credentials) != 1 || !st.Credentials[0].OK || !st.Audit.OK || st.CA.Fingerprint == "" {
		t.Fatalf("status %+v, %v", st, err)
	}
	if err := os.WriteFile(r.keyFile, []byte(rotatedKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The store swaps the value, then notifies its subscribers: wait until
	// both the substitution and the masking follow the rotation.
	testutil.Eventually(t, 10*time.Second, "the rotated key substituted and masked", func() bool {
		r.fake.Reset()
		if r.post(t, "my key is "+rotatedKey) != http.StatusOK {
			return false
		}
		got := r.fake.Requests()[0]
		return got.Header.Get("x-api-key") == rotatedKey && !strings.Contains(string(got.Body), rotatedKey)
	})
}
