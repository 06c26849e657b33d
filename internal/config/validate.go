package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/airlock-dev/airlock/intercept"
	"github.com/airlock-dev/airlock/policy/mask"
)

// Problem is one invalid key; Validate joins every Problem it finds.
type Problem struct {
	Key     string
	Message string
}

func (p *Problem) Error() string { return p.Key + ": " + p.Message }

type problems []error

func (ps *problems) add(key, format string, args ...any) {
	*ps = append(*ps, &Problem{Key: key, Message: fmt.Sprintf(format, args...)})
}

// Validate checks every key and returns all problems joined (nil if none).
// It does not touch the filesystem: startup reports missing files with their fix.
func (c *Config) Validate() error {
	var ps problems
	c.validateTop(&ps)
	c.Capture.validate(&ps)
	c.validateHTTP(&ps)
	validateCredentials(&ps, c.Credentials)
	c.Masking.validate(&ps)
	c.Approvals.validate(&ps)
	c.Audit.validate(&ps)
	if c.Approvals.Central && c.Audit.Central.URL == "" {
		ps.add("approvals.central", "needs audit.central.url: approvals are published to the fleet's database")
	}
	c.Admin.validate(&ps)
	c.Console.validate(&ps)
	return errors.Join(ps...)
}

func (c *Config) validateTop(ps *problems) {
	absPath(ps, "state_dir", c.StateDir)
	absPath(ps, "runtime_dir", c.RuntimeDir)
	if c.DrainTimeout < 0 {
		ps.add("drain_timeout", "must not be negative")
	}
	oneOf(ps, "log.level", c.Log.Level, "debug", "info", "warn", "error")
	oneOf(ps, "log.format", c.Log.Format, "auto", "json", "console")
}

func (c *Config) validateHTTP(ps *problems) {
	if c.TLS.HandshakeTimeout <= 0 {
		ps.add("tls.handshake_timeout", "must be positive, e.g. 10s")
	}
	if c.Upstream.Override != "" {
		hostPort(ps, "upstream.override", c.Upstream.Override)
	}
	if c.Upstream.Proxy != "" {
		httpURL(ps, "upstream.proxy", c.Upstream.Proxy)
	}
	oneOf(ps, "upstream.protocol", c.Upstream.Protocol, "h2", "http1")
	if c.Policy.File != "" && (len(c.Policy.Rules) > 0 || c.Policy.Default != nil) {
		ps.add("policy", "set either policy.file or inline policy.rules/policy.default, not both")
	}
	if c.Gateway.MaxBody <= 0 {
		ps.add("gateway.max_body", "must be positive, e.g. 32MiB")
	}
	if c.Gateway.MaxEvent <= 0 || c.Gateway.MaxEvent > 1<<30 {
		ps.add("gateway.max_event", "must be positive and at most 1GiB, e.g. 4MiB")
	}
	if c.Gateway.ActionHold <= 0 || c.Gateway.ActionHold > 1<<30 {
		ps.add("gateway.action_hold", "must be positive and at most 1GiB, e.g. 1MiB")
	}
	if c.Gateway.MaxInFlightBody < c.Gateway.MaxBody {
		ps.add("gateway.max_inflight_body", "must be at least gateway.max_body, e.g. 256MiB")
	}
	if c.Gateway.BodyTimeout <= 0 {
		ps.add("gateway.body_timeout", "must be positive, e.g. 1m")
	}
}

func (c Capture) validate(ps *problems) {
	absPath(ps, "capture.pin_dir", c.PinDir)
	loopbackListen(ps, "capture.listen_v4", c.ListenV4, true)
	if c.ListenV6 != "" {
		loopbackListen(ps, "capture.listen_v6", c.ListenV6, false)
	}
	for i, t := range c.Targets {
		if _, err := netip.ParsePrefix(t); err != nil {
			ps.add(fmt.Sprintf("capture.targets[%d]", i), "%q is not a CIDR prefix (e.g. 160.79.104.0/23)", t)
		}
	}
	if len(c.Targets) == 0 && len(c.Hosts) == 0 {
		ps.add("capture.targets", "nothing to capture: set targets or hosts")
	}
	c.validatePorts(ps)
	hostNames(ps, "capture.hosts", c.Hosts)
	hostNames(ps, "capture.api_hosts", c.APIHosts)
	hostNames(ps, "capture.relay_allow", c.RelayAllow)
	if len(c.APIHosts) == 0 {
		ps.add("capture.api_hosts", "must name at least one API host (e.g. api.anthropic.com)")
	}
	oneOf(ps, "capture.fail_mode", c.FailMode, FailClosed, FailOpen)
	oneOf(ps, "capture.containers.trust", c.Containers.Trust, "off", "inject")
	if n := c.Containers.MaxNamespaces; n < 1 || n > intercept.MaxNamespacesLimit {
		ps.add("capture.containers.max_namespaces", "%d: want 1 to %d (the kernel's table of namespace listeners)", n, intercept.MaxNamespacesLimit)
	}
	for i, ref := range c.Containers.CAConfigMaps {
		if !validConfigMapRef(ref) {
			ps.add(fmt.Sprintf("capture.containers.ca_configmaps[%d]", i), "%q: want namespace/name (DNS labels)", ref)
		}
	}
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

func validConfigMapRef(ref string) bool {
	ns, name, ok := strings.Cut(ref, "/")
	return ok && dnsLabel.MatchString(ns) && len(name) <= 253 && dnsLabel.MatchString(strings.ReplaceAll(name, ".", "-"))
}

func (c Capture) validatePorts(ps *problems) {
	if len(c.Ports) == 0 {
		ps.add("capture.ports", "must list at least one port (e.g. 443)")
	}
	for i, p := range c.Ports {
		if p < 1 || p > 65535 {
			ps.add(fmt.Sprintf("capture.ports[%d]", i), "%d is not a port (1-65535)", p)
		}
	}
}

func (m Masking) validate(ps *problems) {
	oneOf(ps, "masking.on_overflow", m.OnOverflow, "flush", "cut")
	if m.MaxHold <= 0 {
		ps.add("masking.max_hold", "must be positive, e.g. 64KiB")
	}
	if m.Budget <= 0 {
		ps.add("masking.budget", "must be positive, e.g. 3s (a request whose masking would take longer is refused)")
	}
	if m.MaxPrefilter <= 0 {
		ps.add("masking.max_prefilter", "must be positive, e.g. 64MiB")
	}
	for i, cp := range m.Custom {
		key := fmt.Sprintf("masking.custom[%d]", i)
		if cp.Name == "" {
			ps.add(key+".name", "is required")
		}
		if _, err := regexp.Compile(cp.Pattern); err != nil || cp.Pattern == "" {
			ps.add(key+".pattern", "is not a valid regular expression: %q", cp.Pattern)
		}
	}
	for i, l := range m.Literals {
		if l == "" {
			ps.add(fmt.Sprintf("masking.literals[%d]", i), "must not be empty")
		}
	}
	if m.RulesFile != "" {
		if _, err := mask.CheckRulesFile(m.RulesFile); err != nil {
			ps.add("masking.rules_file", "%v", err)
		}
	}
}

func (a Approvals) validate(ps *problems) {
	if a.Timeout <= 0 {
		ps.add("approvals.timeout", "must be positive, e.g. 2m")
	}
	for i, w := range a.Webhooks {
		key := fmt.Sprintf("approvals.webhooks[%d]", i)
		httpURL(ps, key+".url", w.URL)
		if w.Format != "" {
			oneOf(ps, key+".format", w.Format, "json", "slack")
		}
	}
}

func (a Audit) validate(ps *problems) {
	absPath(ps, "audit.path", a.Path)
	if a.MaxAge < 0 {
		ps.add("audit.max_age", "must not be negative (0 keeps records forever)")
	}
	if a.MaxSize < 0 {
		ps.add("audit.max_size", "must not be negative (0 means no size limit)")
	}
	oneOf(ps, "audit.sync", a.Sync, "normal", "full")
	a.Central.validate(ps)
}

func (c CentralStore) validate(ps *problems) {
	if c.URL == "" {
		return
	}
	u, err := url.Parse(c.URL)
	switch {
	case err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql"):
		ps.add("audit.central.url", "must be a postgres:// URL")
	case hasPassword(u):
		ps.add("audit.central.url", "must not carry a password: put it in audit.central.password_file")
	}
	if c.PasswordFile != "" {
		absPath(ps, "audit.central.password_file", c.PasswordFile)
	}
}

func hasPassword(u *url.URL) bool {
	_, set := u.User.Password()
	return set || u.Query().Has("password")
}

func (a Admin) validate(ps *problems) {
	absPath(ps, "admin.socket", a.Socket)
	if a.TCPListen != "" {
		hostPort(ps, "admin.tcp_listen", a.TCPListen)
		if a.TokenFile == "" {
			ps.add("admin.token_file", "is required when admin.tcp_listen is set")
		}
	}
	if a.MetricsListen != "" {
		hostPort(ps, "admin.metrics_listen", a.MetricsListen)
	}
}

func absPath(ps *problems, key, p string) {
	if p == "" || !filepath.IsAbs(p) {
		ps.add(key, "must be an absolute path, got %q", p)
	}
}

func oneOf(ps *problems, key, got string, allowed ...string) {
	if !slices.Contains(allowed, got) {
		ps.add(key, "must be one of %v, got %q", allowed, got)
	}
}

func hostPort(ps *problems, key, s string) {
	if _, _, err := net.SplitHostPort(s); err != nil {
		ps.add(key, "must be host:port, got %q", s)
	}
}

func loopbackListen(ps *problems, key, s string, v4 bool) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil || !ap.Addr().IsLoopback() || ap.Addr().Is4() != v4 {
		want := map[bool]string{true: "127.0.0.1:15443", false: "[::1]:15443"}[v4]
		ps.add(key, "must be a loopback address:port such as %s, got %q", want, s)
	}
}

func httpURL(ps *problems, key, s string) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		ps.add(key, "must be an http(s) URL, got %q", s)
	}
}

var hostNameRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func hostNames(ps *problems, key string, names []string) {
	for i, n := range names {
		if !hostNameRE.MatchString(n) {
			ps.add(fmt.Sprintf("%s[%d]", key, i), "%q is not a lowercase host name", n)
		}
	}
}
