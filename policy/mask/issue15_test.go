package mask

import (
	"strings"
	"testing"
)

// TestIssue15NonSecretsStayClear: the non-secrets issue 15 lists are not
// masked by the full rule set (gitleaks' allow-lists and entropy apply).
func TestIssue15NonSecretsStayClear(t *testing.T) {
	m := newTestMasker(t, Config{})
	mustStayClear(t, m,
		"secret_length = X25519.secret_length",
		`"io.jsonwebtoken:jjwt-jackson-0.11.2"`,
		"access_token_url='https://github.com/login/oauth/access_token'",
		`TokenFile="RTL_INST_CODE.cer"`,
		`CREDENTIALS_ID = "K8S_CRED"`,
		"credentialsId: '9f3c1a52-7d1e-4c8b-a2f0-3b5e6d7c8a91'",
		"administrator_login_password = var.db_password",
		"?access_token=ACCESS_TOKEN",
		"https://indieweb.org/images/3/35/2018-250-xoxo-indieweb-1.jpg",
		// Found in this repository by TestFalsePositivesOnEngineeringText:
		"u.InputTokens, u.OutputTokens = in.Int64, outTok.Int64",
		"ANTHROPIC_API_KEY: sk-ant-api03-REPLACE-ME",
		"token: ghp_YOUR_TOKEN_HERE_0000000000000000000000",
	)
}

// TestIssue15MissesNowMasked: shapes the issue reports as missed are masked
// whole, in prose and in a stream split anywhere.
func TestIssue15MissesNowMasked(t *testing.T) {
	m := newTestMasker(t, Config{})
	for _, secret := range []string{
		"AKIAI44QH8DHBEXAMPLE",
		"xoxe-1-My0xLTEyMzQ1Njc4OTAxMjM0LTU2Nzg5MDEyMzQ1Njc4LTEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MGFiY2RlZmFi",
		"sk_prod_FAKE0123456789abcdefABCDEF",
		"glffct-FAKEabcdefghij0123456789",
		"MyPa$$w0rd", // issue 15's example, in a connection string below
	} {
		text := "please use " + secret + " for the deploy"
		if strings.HasPrefix(secret, "MyPa") {
			text = "Server=db;Database=app;User Id=sa;password=" + secret + ";"
		}
		out, res := m.Text(text, nil)
		if strings.Contains(out, secret[len(secret)-8:]) || strings.Contains(out, secret[:min(12, len(secret)-2)]) {
			t.Errorf("%q not masked whole: %q %v", secret, out, res.Counts)
		}
	}
}
