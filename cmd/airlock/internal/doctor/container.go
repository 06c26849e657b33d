package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/airlock-dev/airlock/containers"
)

// containerChecks diagnose one container (doctor --container): does a
// runtime know it, is it running in a root of its own, and does its own
// trust store hold the CA its clients will be shown.
func (d *env) containerChecks(ctx context.Context) []Check {
	ref := d.opts.Container
	if d.cfg == nil {
		return []Check{{Name: "container " + ref, Result: Skip, Detail: "no configuration"}}
	}
	info, err := containers.NewRuntimes(d.cfg.Capture.Containers.Sockets, nil).WithCRI(d.cfg.Capture.Containers.CRISockets).Inspect(ctx, ref)
	if err != nil || info.PID == 0 {
		return []Check{{Name: "runtime", Result: Fail, Detail: fmt.Sprintf("%s: not found or not running (%v)", ref, err),
			Fix: "check the id or name with 'docker ps'; list the runtime's API socket in capture.containers.sockets"}}
	}
	out := []Check{{Name: "runtime", Result: OK, Detail: fmt.Sprintf("%s (%s) %s, pid %d", info.Name, info.Image, info.ID[:12], info.PID)}}
	return append(out, d.containerTrust(info))
}

func (d *env) containerTrust(info containers.Info) Check {
	c := Check{Name: "trust"}
	ca, err := d.loadCA()
	if err != nil {
		c.Result, c.Detail = Skip, "no CA to look for"
		return c
	}
	holds, err := containers.TrustHolds(containers.RootOf(info.PID), ca.CertPEM())
	switch {
	case err != nil:
		c.Result, c.Detail, c.Fix = Fail, err.Error(), "run it as root"
	case len(holds) == 0:
		c.Result = Fail
		c.Detail = fmt.Sprintf("container %s: none of its system bundles (%s) holds Airlock's CA: its clients will reject the certificate",
			info.Name, strings.Join(containers.Bundles, ", "))
		c.Fix = "sudo airlock trust install --container " + info.Name + " (or capture.containers.trust: inject)"
	default:
		c.Result, c.Detail = OK, "the CA is in "+strings.Join(holds, ", ")
	}
	return c
}
