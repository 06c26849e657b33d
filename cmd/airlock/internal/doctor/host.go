package doctor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/airlock-dev/airlock/tlsmitm"
	"github.com/airlock-dev/airlock/tlsmitm/trust"
)

// Capabilities the daemon needs (linux/capability.h numbers).
var neededCaps = []struct {
	bit  uint
	name string
}{{12, "CAP_NET_ADMIN"}, {19, "CAP_SYS_PTRACE"}, {21, "CAP_SYS_ADMIN"}, {38, "CAP_PERFMON"}, {39, "CAP_BPF"}}

func (d *env) privileges(context.Context) []Check {
	if os.Geteuid() == 0 {
		return []Check{{Name: "user", Result: OK, Detail: "running as root"}}
	}
	missing := missingCaps()
	if len(missing) == 0 {
		return []Check{{Name: "capabilities", Result: OK, Detail: "not root, but holds the capabilities the daemon needs"}}
	}
	return []Check{{Name: "user", Result: Warn,
		Detail: fmt.Sprintf("uid %d without %s: kernel checks are partial and the admin socket may refuse you", os.Geteuid(), strings.Join(missing, ", ")),
		Fix:    "run 'sudo airlock doctor'"}}
}

// missingCaps reads the effective capability set from /proc/self/status.
func missingCaps() []string {
	data, _ := os.ReadFile("/proc/self/status")
	var eff uint64
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			eff, _ = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	var missing []string
	for _, c := range neededCaps {
		if eff&(1<<c.bit) == 0 {
			missing = append(missing, c.name)
		}
	}
	return missing
}

func (d *env) config(context.Context) []Check {
	if d.cfgErr != nil {
		detail := d.cfgErr // the CLI's error wraps the list of problems: show the list
		if inner := errors.Unwrap(d.cfgErr); inner != nil {
			detail = inner
		}
		return []Check{{Name: d.host.ConfigPath(), Result: Fail, Detail: detail.Error(),
			Fix: "correct each key listed (airlockd reports the same problems at startup)"}}
	}
	return []Check{{Name: d.host.ConfigPath(), Result: OK,
		Detail: fmt.Sprintf("valid; fail mode %s, %d credential(s), policy %s", d.cfg.Capture.FailMode,
			len(d.cfg.Credentials), cmp.Or(d.cfg.Policy.File, "built-in default"))}}
}

func (d *env) ca(context.Context) []Check {
	if d.cfg == nil {
		return needConfig("ca")
	}
	ca, err := d.loadCA()
	switch {
	case errors.Is(err, tlsmitm.ErrNoCA):
		return []Check{{Name: "ca", Result: Fail, Detail: err.Error(), Fix: "run 'sudo airlock install', or start airlockd once: it creates the CA"}}
	case errors.Is(err, tlsmitm.ErrKeyPermissions):
		return []Check{{Name: "ca key", Result: Fail, Detail: err.Error(),
			Fix: "chmod 0400 " + d.cfg.CADir() + "/ca.key, then 'airlock ca rotate' (the key may have leaked)"}}
	case err != nil:
		return []Check{{Name: "ca", Result: Fail, Detail: err.Error(), Fix: "run doctor as root; inspect " + d.cfg.CADir()}}
	}
	c := Check{Name: "ca", Result: OK, Detail: fmt.Sprintf("%s, valid until %s, limited to %s",
		truncate(ca.Fingerprint(), 24), ca.NotAfter().UTC().Format(time.RFC3339), strings.Join(ca.Hosts(), ", "))}
	if time.Until(ca.NotAfter()) < 30*24*time.Hour {
		c.Result, c.Fix = Warn, "run 'sudo airlock ca rotate' before it expires"
	}
	return []Check{c}
}

func (d *env) trust(ctx context.Context) []Check {
	if d.cfg == nil {
		return needConfig("runtimes")
	}
	ca, err := d.loadCA()
	if err != nil {
		return []Check{{Name: "runtimes", Result: Skip, Detail: "no CA to check trust for (see ca)"}}
	}
	host := d.cfg.Capture.APIHosts[0]
	leaf, err := ca.IssueLeaf(host)
	if err == nil {
		var results []trust.Result
		if results, err = trust.Check(ctx, trust.CheckConfig{Certificate: leaf, Host: host}); err == nil {
			return trustChecks(results)
		}
	}
	return []Check{{Name: "runtimes", Result: Fail, Detail: err.Error(), Fix: "run doctor as root"}}
}

func trustChecks(results []trust.Result) []Check {
	var out []Check
	for _, r := range results {
		c := Check{Name: r.Runtime, Result: OK, Detail: r.Detail, Fix: r.Fix}
		switch {
		case !r.Present:
			c.Result, c.Detail = Skip, "not installed"
		case !r.OK:
			c.Result = Fail
		}
		out = append(out, c)
	}
	return out
}

func (d *env) dns(ctx context.Context) []Check {
	if d.cfg == nil {
		return needConfig("resolve")
	}
	var out []Check
	for _, host := range unique(d.cfg.Capture.Hosts, d.cfg.Capture.APIHosts) {
		out = append(out, d.resolve(ctx, host))
	}
	return out
}

func (d *env) resolve(ctx context.Context, host string) Check {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return Check{Name: host, Result: Fail, Detail: err.Error(),
			Fix: "check /etc/resolv.conf: without DNS the host names add no capture targets, and upstream is unreachable"}
	}
	var parts []string
	for _, ad := range addrs {
		parts = append(parts, ad.Unmap().String()+targetNote(ad.Unmap(), d.cfg.Capture.Targets))
	}
	return Check{Name: host, Result: OK, Detail: strings.Join(parts, ", ")}
}

// targetNote says whether addr is inside the configured target prefixes (it is
// captured either way once the daemon has resolved the name).
func targetNote(addr netip.Addr, targets []string) string {
	for _, t := range targets {
		if p, err := netip.ParsePrefix(t); err == nil && p.Contains(addr) {
			return " (in targets)"
		}
	}
	return " (via hosts)"
}

func unique(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}
