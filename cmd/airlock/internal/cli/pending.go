package cli

import (
	"context"

	"github.com/spf13/cobra"
)

// Interim: replaced when intercept's diagnostics and admin.Client land.

func (d *doctorEnv) kernel(context.Context) []check {
	return []check{{Name: "hooks", Result: checkSkip, Detail: "intercept diagnostics not wired yet"}}
}

func (d *doctorEnv) daemon(context.Context) []check {
	return []check{{Name: "admin socket", Result: checkSkip, Detail: "admin client not wired yet"}}
}

func (a *app) statusCommand() *cobra.Command { return group("status", "Show the daemon's status", "") }
func (a *app) approvalsCommand() *cobra.Command {
	return group("approvals", "Decide held requests", "")
}
func (a *app) auditCommand() *cobra.Command { return group("audit", "Read the audit trail", "") }
func (a *app) sessionsCommand() *cobra.Command {
	return group("sessions", "Read recorded sessions", "")
}
