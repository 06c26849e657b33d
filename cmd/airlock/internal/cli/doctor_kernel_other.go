//go:build !linux

package cli

import "context"

func (d *doctorEnv) kernel(context.Context) []check {
	return []check{{Name: "ebpf", Result: checkFail, Detail: "Airlock captures traffic with Linux eBPF cgroup hooks", Fix: "run Airlock on Linux"}}
}
