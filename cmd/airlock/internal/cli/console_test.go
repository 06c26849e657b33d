package cli

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airlock-dev/airlock/internal/testutil"
)

// airlock --central URL console serves the fleet's console on its own
// self-signed certificate and prints a link that signs its operator in once.
func TestFleetConsoleCommand(t *testing.T) {
	pg := testutil.StartPostgres(t)
	state := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"--central", pg.URL, "--as", "alice", "--config", filepath.Join(state, "none.yaml"),
			"console", "--listen", "127.0.0.1:0", "--state-dir", state}, Streams{In: strings.NewReader(""), Out: outW, Err: io.Discard})
		outW.Close()
	}()
	lines := bufio.NewScanner(outR)
	var link string
	for lines.Scan() {
		if _, after, ok := strings.Cut(lines.Text(), "as alice: "); ok {
			link = after
			break
		}
	}
	go io.Copy(io.Discard, outR)
	if link == "" {
		t.Fatal("no sign-in link printed")
	}
	client := consoleClient(t, filepath.Join(state, "console", "cert.pem"))
	if page := getPage(t, client, link, http.StatusOK); !strings.Contains(page, "link:alice") || !strings.Contains(page, "Nothing is waiting") {
		t.Fatalf("signed in with the link: %s", page)
	}
	getPage(t, consoleClient(t, filepath.Join(state, "console", "cert.pem")), link, http.StatusForbidden)
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d after an interrupt", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the console did not stop")
	}
}

// consoleClient trusts only the console's self-signed certificate.
func consoleClient(t *testing.T, certFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
}

func getPage(t *testing.T, c *http.Client, url string, want int) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d: %s", url, resp.StatusCode, want, body)
	}
	return string(body)
}
