package daemon

import (
	"context"
	"os"
	"time"

	"github.com/airlock-dev/airlock/admin"
	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/audit/central"
	"github.com/airlock-dev/airlock/console"
	"github.com/airlock-dev/airlock/gateway"
	"github.com/airlock-dev/airlock/intercept"
	"github.com/airlock-dev/airlock/policy/approval"
	"github.com/airlock-dev/airlock/policy/credential"
	"github.com/airlock-dev/airlock/policy/mask"
	"github.com/airlock-dev/airlock/tlsmitm"
)

// components are what the startup sequence builds, in that order.
type components struct {
	started time.Time
	lock    *os.File
	key     []byte // the install key (fingerprints, placeholders)
	ca      *tlsmitm.Authority
	creds   *credential.Store
	policy  *policySource
	masker  *mask.Masker
	audit   *audit.Store
	central *central.Member // nil unless audit.central.url is set
	broker  *approval.Broker
	metrics *admin.Metrics
	gateway *gateway.Gateway
	tls     *tlsmitm.Server
	capture *intercept.Interceptor
	console *console.Server
	admin   *admin.Server
}

// sequence is the startup order: nothing that accepts traffic starts before
// what it depends on, and the BPF hooks come after the TLS server that will
// serve what they redirect. The admin API comes last: when it answers, the
// daemon is whole.
func (d *Daemon) sequence() []startStep {
	return []startStep{
		{"lock", d.startLock},
		{"state_dir", d.startStateDir},
		{"ca", d.startCA},
		{"ca_configmaps", d.startKubeCA},
		{"credentials", d.startCredentials},
		{"policy", d.startPolicy},
		{"masking", d.startMasking},
		{"audit", d.startAudit},
		{"central", d.newCentral},
		{"approvals", d.startApprovals},
		{"fleet", d.startFleet},
		{"gateway", d.startGateway},
		{"tls", d.startTLS},
		{"capture", d.startCapture},
		{"console", d.startConsole},
		{"admin", d.startAdmin},
	}
}

func (d *Daemon) startLock(context.Context) error {
	d.parts.started = time.Now()
	f, err := acquireLock(d.cfg.LockFile())
	if err != nil {
		return err
	}
	d.parts.lock = f
	// The file stays: unlinking a lock file races with a starting daemon
	// that already opened the old inode.
	d.onStop("lock", func(context.Context) error { return f.Close() })
	return nil
}

func (d *Daemon) startStateDir(context.Context) error {
	if err := prepareStateDir(d.cfg.StateDir); err != nil {
		return err
	}
	key, err := installKey(d.cfg.StateDir)
	if err != nil {
		return fail("install key", "check the state directory's permissions", err)
	}
	d.parts.key = key
	return nil
}
