package installer

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Systemd runs systemctl, or says why it must not: under a root prefix, or on
// a host whose PID 1 is not systemd (containers, sandboxes, CI).
type Systemd struct {
	Root       string
	BootedPath string                                          // default /run/systemd/system (sd_booted)
	Run        func(ctx context.Context, args ...string) error // default: exec systemctl
}

// Unavailable returns why systemctl cannot be used here, or "".
func (s *Systemd) Unavailable() string {
	if s.Root != "" && s.Root != "/" {
		return "--root is set: systemctl is not run for a root prefix"
	}
	booted := s.BootedPath
	if booted == "" {
		booted = "/run/systemd/system"
	}
	if _, err := os.Stat(booted); err != nil {
		return "systemd is not PID 1 on this host (no " + booted + ")"
	}
	if s.Run == nil {
		if _, err := exec.LookPath("systemctl"); err != nil {
			return "systemctl is not installed"
		}
	}
	return ""
}

func (s *Systemd) systemctl(ctx context.Context, args ...string) error {
	if s.Run != nil {
		return s.Run(ctx, args...)
	}
	out, err := exec.CommandContext(ctx, "systemctl", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
