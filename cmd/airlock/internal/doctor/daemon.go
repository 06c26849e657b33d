package doctor

import (
	"context"
	"fmt"
)

func (d *env) daemon(ctx context.Context) []Check {
	st, sock, err := d.host.Status(ctx)
	if err != nil {
		c := Check{Name: "admin socket", Result: Fail, Detail: err.Error()}
		if e, ok := err.(explained); ok {
			c.Detail, c.Fix = e.Explain()
		}
		return []Check{c}
	}
	detail := fmt.Sprintf("airlockd answers at %s: version %s, pid %d, fail_mode %s", sock, st.Version, st.PID, st.Capture.FailMode)
	if st.Capture.Cgroup != "" {
		detail += ", cgroup " + st.Capture.Cgroup
	}
	return []Check{{Name: "admin socket", Result: OK, Detail: detail}}
}
