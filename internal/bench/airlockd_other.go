//go:build !linux

package bench

import (
	"context"
	"errors"
	"syscall"
)

// TargetAddr is where captured clients connect.
const TargetAddr = "127.0.100.1:443"

// Airlockd needs Linux (eBPF capture).
type Airlockd struct {
	Proc    *Proc
	CAFile  string
	Command string
	Cgroup  string
}

// StartAirlockd is unsupported off Linux.
func StartAirlockd(context.Context, string, PeerEnv) (*Airlockd, error) {
	return nil, errors.New("airlockd needs Linux")
}

// Enter is unsupported off Linux.
func (a *Airlockd) Enter() (func(), error) { return nil, errors.New("airlockd needs Linux") }

// Close does nothing off Linux.
func (a *Airlockd) Close() error { return nil }

func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
