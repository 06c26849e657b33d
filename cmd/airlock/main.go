// Command airlock is the operator's tool for Airlock: it installs and removes
// the daemon, reports its status, diagnoses the host, manages the CA, trust,
// policy, approvals, the audit trail and recorded sessions.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/airlock-dev/airlock/cmd/airlock/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
