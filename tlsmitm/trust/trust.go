// Package trust provisions Airlock's CA where each runtime looks for roots
// (the system store, Node's NODE_EXTRA_CA_CERTS, SSL_CERT_FILE and
// REQUESTS_CA_BUNDLE through environment drop-ins that services and login
// shells read, the Java keystore) and proves with real handshakes that each
// runtime present trusts it (Check, for `airlock doctor`).
//
// Every path is relative to Options.Root so the same code runs on a test tree.
package trust

import (
	"context"
	"os/exec"

	"go.uber.org/zap"
)

// Options locates the files trust provisioning touches.
type Options struct {
	// Root prefixes every path ("/" when empty).
	Root string
	// StateDir holds the install manifest, relative to Root
	// (DefaultStateDir when empty).
	StateDir string
	// Run runs a command (update-ca-certificates, keytool ...); nil runs it.
	Run func(ctx context.Context, name string, args ...string) ([]byte, error)
	// LookPath finds a command; nil uses exec.LookPath.
	LookPath func(name string) (string, error)
	Log      *zap.Logger

	runInjected bool
}

// DefaultStateDir is where the manifest lives unless Options.StateDir says otherwise.
const DefaultStateDir = "/var/lib/airlock"

func (o Options) withDefaults() Options {
	if o.Root == "" {
		o.Root = "/"
	}
	if o.StateDir == "" {
		o.StateDir = DefaultStateDir
	}
	o.runInjected = o.Run != nil
	if o.Run == nil {
		o.Run = func(ctx context.Context, name string, args ...string) ([]byte, error) {
			return exec.CommandContext(ctx, name, args...).CombinedOutput()
		}
	}
	if o.LookPath == nil {
		o.LookPath = exec.LookPath
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	o.Log = o.Log.Named("trust")
	return o
}
