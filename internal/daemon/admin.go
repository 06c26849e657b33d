package daemon

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/airlock-dev/airlock/admin"
	"github.com/airlock-dev/airlock/console"
)

// startAdmin opens the operator API (Unix socket; optional TCP and metrics).
func (d *Daemon) startAdmin(ctx context.Context) error {
	c := d.cfg.Admin
	token, err := readToken(c.TokenFile)
	if err != nil {
		return fail("admin.token_file", "create the token file (mode 0400) or unset admin.tcp_listen", err)
	}
	s := admin.NewServer(admin.ServerConfig{
		SocketPath: c.Socket, Group: c.Group, TCPAddr: c.TCPListen, TCPToken: token,
		MetricsAddr: c.MetricsListen, Log: d.log,
	}, admin.Deps{Status: d.Status, Approvals: d.parts.broker, Audit: d.parts.audit, Metrics: d.parts.metrics,
		Console: consoleLinks(d.parts.console)})
	if err := s.Start(ctx); err != nil {
		return fail("admin API on "+c.Socket, "check admin.socket, admin.group and the listen addresses", err)
	}
	d.parts.admin = s
	d.onStop("admin", func(context.Context) error { return s.Close() })
	return nil
}

func readToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return token, nil
}

// consoleLinks keeps a nil *console.Server a nil interface: no console, 503.
func consoleLinks(s *console.Server) admin.ConsoleLinks {
	if s == nil {
		return nil
	}
	return s
}
