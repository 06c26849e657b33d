package daemon

import (
	"context"
	"os"
	"runtime/debug"
	"time"
)

// status is the admin API's /v1/status: where capture is attached, targets,
// counters, CA, credential health (never a value), policy and approvals.
func (d *Daemon) status(ctx context.Context) (any, error) {
	p := &d.parts
	return map[string]any{
		"version":    version(),
		"pid":        os.Getpid(),
		"started":    p.started.UTC().Format(time.RFC3339),
		"uptime":     time.Since(p.started).Round(time.Second).String(),
		"fail_mode":  d.cfg.Capture.FailMode,
		"attached":   p.capture.Loader.CgroupPath(),
		"pin_dir":    d.cfg.Capture.PinDir,
		"targets":    p.selector.targets(),
		"api_hosts":  d.cfg.Capture.APIHosts,
		"listener":   listenerAddrs(d),
		"namespaces": p.capture.Namespaces.Stats(),
		"counters":   d.bpfCounters(),
		"ca": map[string]any{
			"fingerprint": p.ca.Fingerprint(), "not_after": p.ca.NotAfter().UTC().Format(time.RFC3339),
		},
		"credentials": d.credentialHealth(ctx),
		"policy":      map[string]any{"file": d.cfg.Policy.PolicyPath()},
		"audit":       map[string]any{"path": d.cfg.Audit.Path, "ready": errString(p.audit.Ready())},
		"approvals":   map[string]any{"pending": p.broker.Count(), "timeout": d.cfg.Approvals.Timeout.String()},
	}, nil
}

func listenerAddrs(d *Daemon) []string {
	v4, v6 := d.parts.capture.Listener.Addrs()
	out := []string{v4.String()}
	if v6.IsValid() {
		out = append(out, v6.String())
	}
	return out
}

// credentialHealth says, per managed credential, whether a value is
// available right now, and where it comes from — never the value.
func (d *Daemon) credentialHealth(ctx context.Context) []map[string]any {
	var out []map[string]any
	for _, c := range d.cfg.Credentials {
		_, err := d.parts.creds.Get(ctx, c.Name)
		out = append(out, map[string]any{"name": c.Name, "kind": c.Kind, "source": sourceOf(c.File, c.Env, c.Systemd, len(c.Command) > 0),
			"ok": err == nil, "error": errString(err)})
	}
	return out
}

func sourceOf(file, env, systemd string, command bool) string {
	switch {
	case file != "":
		return "file " + file
	case env != "":
		return "env " + env
	case systemd != "":
		return "systemd credential " + systemd
	case command:
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

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}
