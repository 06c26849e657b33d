package daemon

import (
	"context"
	"os"

	"github.com/airlock-dev/airlock/console"
)

// startConsole serves the reviewers' web console when console.enabled is set.
func (d *Daemon) startConsole(ctx context.Context) error {
	c := d.cfg.Console
	if !c.Enabled {
		return nil
	}
	secret, err := readToken(c.OIDC.ClientSecretFile)
	if err != nil {
		return fail("console.oidc.client_secret_file", "create the file (mode 0400) with the client secret", err)
	}
	host := d.cfg.Audit.Central.HostID
	if host == "" {
		host, _ = os.Hostname()
	}
	q, src := console.Local(d.parts.broker, d.parts.audit, host)
	s, err := console.New(console.Config{Listen: c.Listen, URL: c.URL, CertFile: c.CertFile, KeyFile: c.KeyFile,
		StateDir: d.cfg.StateDir, Host: host, Reviewers: c.Reviewers, Log: d.log,
		OIDC: console.OIDC{Issuer: c.OIDC.Issuer, ClientID: c.OIDC.ClientID, ClientSecret: secret, GroupsClaim: c.OIDC.GroupsClaim}}, q, src)
	if err == nil {
		err = s.Start(ctx)
	}
	if err != nil {
		return fail("console on "+c.Listen, "check console.listen and console.cert_file", err)
	}
	d.parts.console = s
	d.onStop("console", func(context.Context) error { return s.Close() })
	return nil
}

// Console is the web console (nil unless console.enabled).
func (d *Daemon) Console() *console.Server { return d.parts.console }
