package cli

import (
	"context"
	"fmt"
)

func (d *doctorEnv) daemon(ctx context.Context) []check {
	c, sock := d.a.client()
	st, err := c.Status(ctx)
	if err != nil {
		e := adminError(err, sock, "admin socket", "").(*Error)
		return []check{{Name: "admin socket", Result: checkFail, Detail: e.Reason, Fix: e.Fix}}
	}
	detail := fmt.Sprintf("airlockd answers at %s: version %s, pid %d, fail_mode %s", sock, st.Version, st.PID, st.Capture.FailMode)
	if st.Capture.Cgroup != "" {
		detail += ", cgroup " + st.Capture.Cgroup
	}
	return []check{{Name: "admin socket", Result: checkOK, Detail: detail}}
}
