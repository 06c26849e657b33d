package cli

import (
	"context"
	"fmt"
	"strings"
)

func (d *doctorEnv) daemon(ctx context.Context) []check {
	c, sock := d.a.client()
	st, err := c.Status(ctx)
	if err != nil {
		e := adminError(err, sock, "admin socket", "").(*Error)
		return []check{{Name: "admin socket", Result: checkFail, Detail: e.Reason, Fix: e.Fix}}
	}
	var facts []string
	for _, k := range []string{"version", "pid", "fail_mode", "attached", "cgroup"} {
		if v, ok := st[k]; ok && v != nil {
			facts = append(facts, fmt.Sprintf("%s %v", k, v))
		}
	}
	detail := "airlockd answers at " + sock
	if len(facts) > 0 {
		detail += ": " + strings.Join(facts, ", ")
	}
	return []check{{Name: "admin socket", Result: checkOK, Detail: detail}}
}
