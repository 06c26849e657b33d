package config

import (
	"strings"
	"testing"
)

// An identity provider reached over plain http beyond this host could be
// impersonated by anyone on the path: only loopback may use http.
func TestConsoleIssuerMustBeHTTPSBeyondLoopback(t *testing.T) {
	for issuer, ok := range map[string]bool{
		"https://idp.example.com":    true,
		"http://127.0.0.1:5556/oidc": true,
		"http://[::1]:5556":          true,
		"http://localhost:5556":      true,
		"http://idp.example.com":     false,
		"http://10.0.0.7:5556":       false,
		"ftp://idp.example.com":      false,
	} {
		f := writeFile(t, t.TempDir(), "airlock.yaml", `
console: {enabled: true, reviewers: [sec], oidc: {issuer: "`+issuer+`", client_id: airlock}}
`)
		_, err := Load(Source{File: f})
		if got := err == nil || !strings.Contains(err.Error(), "console.oidc.issuer"); got != ok {
			t.Errorf("issuer %s: accepted=%v, want %v (err: %v)", issuer, got, ok, err)
		}
	}
}
