package doctor

import (
	"context"

	"github.com/airlock-dev/airlock/intercept"
)

// kernel runs capture's own diagnostics (BPF syscall, cgroup2 mount,
// CONFIG_CGROUP_BPF, each hook type, bpffs) for the configured cgroup and pin
// directory. Privileges are the privileges section's.
func (d *env) kernel(context.Context) []Check {
	var cfg intercept.Config
	if d.cfg != nil {
		cfg.CgroupPath, cfg.PinDir = d.cfg.Capture.Cgroup, d.cfg.Capture.PinDir
	}
	var out []Check
	for _, c := range intercept.Checks(cfg) {
		if c.Name == "privileges" {
			continue
		}
		r := Check{Name: c.Name, Result: OK, Detail: c.Detail, Fix: c.Fix}
		if !c.OK {
			r.Result = Fail
		} else if c.Name == "cgroup2 mount" && c.Detail == "" {
			r.Detail = cgroupDetail(cfg.CgroupPath)
		}
		out = append(out, r)
	}
	return out
}

func cgroupDetail(configured string) string {
	if configured != "" {
		return configured
	}
	mnt, _ := intercept.Cgroup2Mount()
	return mnt
}
