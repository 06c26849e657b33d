package config

import (
	"net/netip"
	"net/url"
)

// Console configures the reviewers' web console.
type Console struct {
	Enabled   bool        `mapstructure:"enabled"`
	Listen    string      `mapstructure:"listen"`    // host:port; loopback unless cert_file is set
	URL       string      `mapstructure:"url"`       // how reviewers reach it; "" = https://<listen>
	CertFile  string      `mapstructure:"cert_file"` // the operator's certificate; "" = self-signed in state_dir
	KeyFile   string      `mapstructure:"key_file"`
	Reviewers []string    `mapstructure:"reviewers"` // groups (the IdP's group claim) whose members may decide
	OIDC      ConsoleOIDC `mapstructure:"oidc"`
}

// ConsoleOIDC is the reviewers' OpenID Connect provider.
type ConsoleOIDC struct {
	Issuer           string `mapstructure:"issuer"` // "" = no OIDC: one-time links only
	ClientID         string `mapstructure:"client_id"`
	ClientSecretFile string `mapstructure:"client_secret_file"`
	GroupsClaim      string `mapstructure:"groups_claim"`
}

func consoleDefaults() map[string]any {
	return map[string]any{
		"console.enabled":                 false,
		"console.listen":                  "127.0.0.1:9443",
		"console.url":                     "",
		"console.cert_file":               "",
		"console.key_file":                "",
		"console.reviewers":               []string{},
		"console.oidc.issuer":             "",
		"console.oidc.client_id":          "",
		"console.oidc.client_secret_file": "",
		"console.oidc.groups_claim":       "groups",
	}
}

func (c Console) validate(ps *problems) {
	if !c.Enabled {
		return
	}
	ap, err := netip.ParseAddrPort(c.Listen)
	if err != nil {
		ps.add("console.listen", "must be address:port such as 127.0.0.1:9443, got %q", c.Listen)
	} else if !ap.Addr().IsLoopback() && c.CertFile == "" {
		ps.add("console.listen", "%s is not loopback: serve the console beyond this host only with your own certificate (console.cert_file)", c.Listen)
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		ps.add("console.cert_file", "set console.cert_file and console.key_file together")
	}
	if c.URL != "" {
		httpURL(ps, "console.url", c.URL)
	}
	if c.OIDC.Issuer == "" {
		return
	}
	httpsUnlessLoopback(ps, "console.oidc.issuer", c.OIDC.Issuer)
	if c.OIDC.ClientID == "" {
		ps.add("console.oidc.client_id", "is required with console.oidc.issuer")
	}
	if len(c.Reviewers) == 0 {
		ps.add("console.reviewers", "name at least one group whose members may review: without it nobody can sign in")
	}
}

// httpsUnlessLoopback is httpURL that also refuses plain http beyond this
// host: whoever sits on the path to an http identity provider can forge the
// discovery document and its keys, and so sign any reviewer in.
func httpsUnlessLoopback(ps *problems, key, s string) {
	httpURL(ps, key, s)
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" {
		return
	}
	if ip, err := netip.ParseAddr(u.Hostname()); (err != nil || !ip.IsLoopback()) && u.Hostname() != "localhost" {
		ps.add(key, "must be https unless the provider is on loopback, got %q", s)
	}
}
