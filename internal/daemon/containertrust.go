package daemon

import (
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/containers"
	"github.com/airlock-dev/airlock/intercept"
)

// trustInjector adds the CA to each container's own system bundles when its
// network namespace is first served (capture.containers.trust: inject), as
// `airlock trust install --container` does, recording what it changed in the
// same place so `airlock trust uninstall --container` undoes it.
type trustInjector struct {
	caPEM []byte
	dir   string
	log   *zap.Logger
	done  sync.Map // container id -> struct{}
}

func (d *Daemon) injectContainerTrust(ic *intercept.Interceptor) {
	if d.cfg.Capture.Containers.Trust != "inject" {
		return
	}
	t := &trustInjector{caPEM: d.parts.ca.CertPEM(), dir: filepath.Join(d.cfg.StateDir, "containers", "trust"),
		log: d.log.Named("containers")}
	ic.Namespaces.OnOpen(t.inject)
}

func (t *trustInjector) inject(pid int) {
	id := containers.FromPID(pid).ID
	if id == "" {
		return // a namespace, not a container: its trust is the host's
	}
	if _, seen := t.done.LoadOrStore(id, struct{}{}); seen {
		return
	}
	waitPivot(pid)
	rec, err := containers.InstallTrust(containers.RootOf(pid), id, t.caPEM)
	if err == nil {
		err = containers.SaveTrustRecord(t.dir, rec)
	}
	if err != nil {
		t.done.Delete(id) // the next namespace event for it tries again
		t.log.Warn("injecting trust into a container failed: its clients will reject the certificate",
			zap.String("container", id), zap.Int("pid", pid), zap.Error(err),
			zap.String("fix", "mount the CA and set SSL_CERT_FILE, or run airlock trust install --container "+id))
		return
	}
	t.log.Info("injected trust into a container", zap.String("container", id), zap.Strings("bundles", rec.Appended),
		zap.Strings("anchors", rec.Anchors))
}

// waitPivot waits (bounded) until pid's root is no longer the host's: the
// namespace is often found while the runtime's init process is still
// setting the container up.
func waitPivot(pid int) {
	for range 50 {
		if !containers.IsHostRoot(containers.RootOf(pid)) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
