package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/airlock-dev/airlock/containers"
)

// containerChecks diagnose one container (doctor --container): does a
// runtime know it, is it running in a root of its own, and does its own
// trust store hold the CA its clients will be shown.
func (d *doctorEnv) containerChecks(ctx context.Context) []check {
	ref := d.flags.container
	if d.cfg == nil {
		return []check{{Name: "container " + ref, Result: checkSkip, Detail: "no configuration"}}
	}
	info, err := containers.NewRuntimes(d.cfg.Capture.Containers.Sockets, nil).Inspect(ctx, ref)
	if err != nil || info.PID == 0 {
		return []check{{Name: "runtime", Result: checkFail, Detail: fmt.Sprintf("%s: not found or not running (%v)", ref, err),
			Fix: "check the id or name with 'docker ps'; list the runtime's API socket in capture.containers.sockets"}}
	}
	out := []check{{Name: "runtime", Result: checkOK, Detail: fmt.Sprintf("%s (%s) %s, pid %d", info.Name, info.Image, info.ID[:12], info.PID)}}
	return append(out, d.containerTrust(info))
}

func (d *doctorEnv) containerTrust(info containers.Info) check {
	c := check{Name: "trust"}
	_, ca, err := d.a.currentCA()
	if err != nil {
		c.Result, c.Detail = checkSkip, "no CA to look for"
		return c
	}
	holds, err := containers.TrustHolds(containers.RootOf(info.PID), ca.CertPEM())
	switch {
	case err != nil:
		c.Result, c.Detail, c.Fix = checkFail, err.Error(), "run it as root"
	case len(holds) == 0:
		c.Result = checkFail
		c.Detail = fmt.Sprintf("container %s: none of its system bundles (%s) holds Airlock's CA: its clients will reject the certificate",
			info.Name, strings.Join(containers.Bundles, ", "))
		c.Fix = "sudo airlock trust install --container " + info.Name + " (or capture.containers.trust: inject)"
	default:
		c.Result, c.Detail = checkOK, "the CA is in "+strings.Join(holds, ", ")
	}
	return c
}
