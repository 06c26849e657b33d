package trust

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Check reads the login-shell environment from the profile.d drop-in under
// Root, ignoring the caller's own variables, and reports a fix on failure.
func TestCheckUsesProfileDropIn(t *testing.T) {
	ca := testCA(t)
	leaf, err := ca.IssueLeaf("api.anthropic.com")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	bundle := filepath.Join(root, "bundle.pem")
	os.WriteFile(bundle, ca.CertPEM(), 0o644)
	misleading := append(os.Environ(), "SSL_CERT_FILE="+bundle) // the caller's env must not count
	cfg := CheckConfig{Certificate: leaf, Host: "api.anthropic.com", Root: root, Env: misleading, Runtimes: []string{"go"}}

	results, err := Check(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].OK || !strings.Contains(results[0].Fix, "airlock trust install") {
		t.Fatalf("without the drop-in: %+v, want a failure with a fix", results)
	}
	dropIn := filepath.Join(root, profileDropIn)
	os.MkdirAll(filepath.Dir(dropIn), 0o755)
	os.WriteFile(dropIn, []byte("export SSL_CERT_FILE=\""+bundle+"\"\n"), 0o644)
	results, err = Check(context.Background(), cfg)
	if err != nil || len(results) != 1 || !results[0].OK {
		t.Fatalf("with the drop-in: %+v, %v; want ok", results, err)
	}
}

func TestCheckReportsMissingRuntime(t *testing.T) {
	leaf, _ := testCA(t).IssueLeaf("api.anthropic.com")
	results, err := Check(context.Background(), CheckConfig{Certificate: leaf, Host: "api.anthropic.com",
		Env: []string{"PATH=" + t.TempDir()}, Runtimes: []string{"node", "java"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Present || r.OK {
			t.Errorf("%s found in an empty PATH: %+v", r.Runtime, r)
		}
	}
}

func TestRHELLayout(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/pki/ca-trust/source/anchors"), 0o755)
	var ran []string
	opts := Options{Root: root, LookPath: func(n string) (string, error) { return n, nil },
		Run: func(_ context.Context, name string, args ...string) ([]byte, error) {
			ran = append(ran, strings.Join(append([]string{name}, args...), " "))
			if name == "keytool" {
				return []byte("no such alias does not exist"), nil
			}
			return nil, nil
		}}
	if err := Install(context.Background(), opts, testCA(t).CertPEM()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, rhelStore.CAFile)); err != nil {
		t.Errorf("CA not in the RHEL anchors: %v", err)
	}
	profile, _ := os.ReadFile(filepath.Join(root, profileDropIn))
	if !strings.Contains(string(profile), "/etc/pki/tls/certs/ca-bundle.crt") || ran[0] != "update-ca-trust extract" {
		t.Errorf("profile %q, commands %v", profile, ran)
	}
	if !strings.Contains(strings.Join(ran, "\n"), "keytool -importcert -noprompt -cacerts -storepass changeit -alias airlock") {
		t.Errorf("no keytool import: %v", ran)
	}
}
