package daemon

import (
	"os"
	"path/filepath"
	"strconv"
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
	pid = pivoted(pid, id)
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

// pivoted returns a process of container id whose root is the container's
// own, waiting (bounded) for one: the namespace is often found through the
// runtime's init process (runc init) before it pivots into the image, and
// that process may exec or exit rather than pivot, so other processes of
// the same container are looked at too. It returns pid when none appears
// (InstallTrust then refuses the host's root).
func pivoted(pid int, id string) int {
	for range 100 {
		if !containers.IsHostRoot(containers.RootOf(pid)) {
			return pid
		}
		if other := pivotedProcessOf(id); other > 0 {
			return other
		}
		time.Sleep(100 * time.Millisecond)
	}
	return pid
}

// pivotedProcessOf finds a process of container id with a root of its own.
func pivotedProcessOf(id string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil || containers.FromPID(p).ID != id {
			continue
		}
		if !containers.IsHostRoot(containers.RootOf(p)) {
			return p
		}
	}
	return 0
}
