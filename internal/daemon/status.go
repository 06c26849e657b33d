package daemon

import (
	"context"
	"os"
	"runtime/debug"
	"time"

	"github.com/airlock-dev/airlock/admin"
	"github.com/airlock-dev/airlock/internal/config"
)

// Status is the admin API's /v1/status: where capture is attached, targets,
// counters, CA, credential health (never a value), policy and approvals.
func (d *Daemon) Status(ctx context.Context) (admin.Status, error) {
	p := &d.parts
	audit := p.audit.Ready()
	return admin.Status{
		Version:     version(),
		PID:         os.Getpid(),
		Started:     p.started.UTC(),
		Uptime:      time.Since(p.started).Round(time.Second).String(),
		Capture:     d.captureStatus(),
		CA:          admin.CAStatus{Fingerprint: p.ca.Fingerprint(), NotAfter: p.ca.NotAfter().UTC()},
		Credentials: d.credentialHealth(ctx),
		Policy:      admin.PolicyStatus{File: d.cfg.Policy.PolicyPath()},
		Audit:       admin.AuditStatus{Path: d.cfg.Audit.Path, OK: audit == nil, Error: errString(audit)},
		Approvals:   admin.ApprovalsStatus{Pending: p.broker.Count(), Timeout: d.cfg.Approvals.Timeout.String()},
	}, nil
}

func (d *Daemon) captureStatus() admin.CaptureStatus {
	d.live.RLock()
	c := d.cfg.Capture
	d.live.RUnlock()
	st := admin.CaptureStatus{FailMode: c.FailMode, PinDir: c.PinDir, APIHosts: c.APIHosts}
	ic := d.parts.capture
	if ic == nil {
		return st
	}
	st.Enabled, st.Cgroup, st.Counters = true, ic.Loader.CgroupPath(), d.bpfCounters()
	for _, t := range ic.Targets() {
		st.Targets = append(st.Targets, t.String())
	}
	v4, v6 := ic.Listener.Addrs()
	st.Listener = []string{v4.String()}
	if v6.IsValid() {
		st.Listener = append(st.Listener, v6.String())
	}
	ns := ic.Namespaces.Stats()
	st.Namespaces = admin.NamespaceStatus{Served: ns.Served, Opened: ns.Opened, Released: ns.Released,
		FirstContact: ns.FirstContact, Refused: ns.Refused, Held: ns.Held, HeldPassed: ns.HeldPassed,
		Failures: ns.Failures, OverLimit: ns.OverLimit}
	return st
}

// credentialHealth says, per managed credential, whether a value is
// available right now, and where it comes from — never the value.
func (d *Daemon) credentialHealth(ctx context.Context) []admin.CredentialStatus {
	var out []admin.CredentialStatus
	for _, c := range d.cfg.Credentials {
		_, err := d.parts.creds.Get(ctx, c.Name)
		out = append(out, admin.CredentialStatus{Name: c.Name, Kind: c.Kind, Source: sourceOf(c),
			OK: err == nil, Error: errString(err)})
	}
	return out
}

func sourceOf(c config.Credential) string {
	switch {
	case c.File != "":
		return "file " + c.File
	case c.Env != "":
		return "env " + c.Env
	case c.Systemd != "":
		return "systemd credential " + c.Systemd
	case len(c.Command) > 0:
		return "command"
	}
	return ""
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// buildVersion stamps a release build (go build -ldflags -X
// github.com/airlock-dev/airlock/internal/daemon.buildVersion=v1.2.3);
// without it the module version from the build information is reported.
var buildVersion string

func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}
