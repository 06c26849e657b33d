package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/containers"
	"github.com/airlock-dev/airlock/intercept"
	"github.com/airlock-dev/airlock/internal/poll"
)

// trustInjector adds the CA to each container's own system bundles when its
// network namespace is first served (capture.containers.trust: inject), as
// `airlock trust install --container` does, recording what it changed in the
// same place so `airlock trust uninstall --container` undoes it. Each
// injection, and each failed one, is an audit record naming the container
// and the files changed: the daemon wrote into a container's image.
type trustInjector struct {
	caPEM    []byte
	dir      string
	audit    audit.Auditor
	runtimes *containers.Runtimes
	ctx      context.Context // the daemon's: ends audit writes at shutdown
	log      *zap.Logger
	done     sync.Map // container id -> struct{}
}

func (d *Daemon) injectContainerTrust(ic *intercept.Interceptor, a audit.Auditor, runtimes *containers.Runtimes) {
	if d.cfg.Capture.Containers.Trust != "inject" {
		return
	}
	t := &trustInjector{caPEM: d.parts.ca.CertPEM(), dir: filepath.Join(d.cfg.StateDir, "containers", "trust"),
		audit: a, runtimes: runtimes, ctx: d.ctx, log: d.log.Named("containers")}
	ic.Namespaces.OnOpen(t.inject)
}

func (t *trustInjector) inject(ns intercept.OpenedNamespace) {
	pid, id := t.containerOf(ns)
	if id.ID == "" {
		return // a namespace, not a container: its trust is the host's
	}
	if _, seen := t.done.LoadOrStore(id.ID, struct{}{}); seen {
		return
	}
	pid = pivoted(pid, id.ID)
	rec, err := t.install(pid, id.ID)
	t.record(caller.Process{PID: pid, Container: id.ID, PodUID: id.PodUID, Netns: ns.Cookie}, rec, err)
	if err != nil {
		t.done.Delete(id.ID) // the next namespace event for it tries again
		t.log.Warn("injecting trust into a container failed: its clients will reject the certificate",
			zap.String("container", id.ID), zap.Int("pid", pid), zap.Error(err),
			zap.String("fix", "mount the CA and set SSL_CERT_FILE, or run airlock trust install --container "+id.ID))
		return
	}
	t.log.Info("injected trust into a container", zap.String("container", id.ID), zap.Strings("bundles", rec.Appended),
		zap.Strings("anchors", rec.Anchors))
}

// containerOf names the container ns belongs to, and a process of it. The
// process ns was found through is often a runtime's helper caught mid-setup
// (runc's intermediate init, which exits once it has forked the container's
// own), and once gone its pid may be reused by any process on the host. So
// it speaks for ns only while it is still in ns; otherwise ns's other
// processes are looked at, waiting (bounded) for one a runtime started. A
// process in ns and in no container means a namespace that is not a
// container's; so does a namespace with no process left, at once (a process
// that opens namespaces and exits in a loop costs one /proc walk each, not
// ten seconds of them).
func (t *trustInjector) containerOf(ns intercept.OpenedNamespace) (int, containers.Identity) {
	if netnsInode(ns.PID) == ns.Inode {
		return ns.PID, containers.FromPID(ns.PID)
	}
	var pid int
	var id containers.Identity
	_ = poll.Until(t.ctx, 10*time.Second, func() (bool, error) {
		occupied := false
		pid = findProcess(func(p int) bool {
			id = containers.Identity{}
			if netnsInode(p) == ns.Inode {
				occupied, id = true, containers.FromPID(p)
			}
			return id.ID != ""
		})
		return pid > 0 || !occupied, nil
	})
	return pid, id
}

// netnsInode is the inode of pid's network namespace; 0 once pid has exited
// (a zombie has left its namespaces too).
func netnsInode(pid int) uint64 {
	var st unix.Stat_t
	if unix.Stat("/proc/"+strconv.Itoa(pid)+"/ns/net", &st) != nil {
		return 0
	}
	return st.Ino
}

// findProcess returns the first process on the host that match accepts, or 0.
func findProcess(match func(pid int) bool) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && match(pid) {
			return pid
		}
	}
	return 0
}

func (t *trustInjector) install(pid int, id string) (containers.TrustRecord, error) {
	rec, err := containers.InstallTrust(containers.RootOf(pid), id, t.caPEM)
	if err != nil {
		return rec, err
	}
	return rec, containers.SaveTrustRecord(t.dir, rec)
}

// record writes the audit record of one injection: decision trust_injected
// (or trust_inject_failed), the container as the runtime names it, and in
// the reason the files changed inside it.
func (t *trustInjector) record(p caller.Process, rec containers.TrustRecord, err error) {
	t.runtimes.Name(t.ctx, &p)
	r := &audit.Record{Time: time.Now(), RequestID: "trust-" + p.Container[:12] + "-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		Caller: p, Decision: "trust_injected", Rule: "capture.containers.trust", Reason: changedFiles(rec), EmbeddedClass: "none"}
	if err != nil {
		r.Decision, r.Reason = "trust_inject_failed", err.Error()
	}
	if werr := t.audit.Write(t.ctx, r, nil); werr != nil {
		t.log.Warn("auditing a trust injection", zap.String("container", p.Container), zap.Error(werr))
	}
}

// changedFiles says what InstallTrust changed, as absolute paths inside
// the container (the record keeps them relative to its root).
func changedFiles(rec containers.TrustRecord) string {
	parts := []string{}
	if len(rec.Appended) > 0 {
		parts = append(parts, "appended the CA to "+absolute(rec.Appended))
	}
	if len(rec.Anchors) > 0 {
		parts = append(parts, "wrote "+absolute(rec.Anchors))
	}
	return strings.Join(parts, "; ")
}

func absolute(rel []string) string {
	abs := make([]string, len(rel))
	for i, p := range rel {
		abs[i] = filepath.Join("/", p)
	}
	return strings.Join(abs, ", ")
}

// pivoted returns a process of container id whose root is the container's
// own, waiting (bounded) for one: the namespace is often found through the
// runtime's init process (runc init) before it pivots into the image, and
// that process may exec or exit rather than pivot, so other processes of
// the same container are looked at too. It returns pid when none appears
// (InstallTrust then refuses the host's root).
func pivoted(pid int, id string) int {
	found := pid
	_ = poll.Until(context.Background(), 10*time.Second, func() (bool, error) {
		if !containers.IsHostRoot(containers.RootOf(pid)) {
			return true, nil
		}
		if other := pivotedProcessOf(id); other > 0 {
			found = other
			return true, nil
		}
		return false, nil
	})
	return found
}

// pivotedProcessOf finds a process of container id with a root of its own.
func pivotedProcessOf(id string) int {
	return findProcess(func(p int) bool {
		return containers.FromPID(p).ID == id && !containers.IsHostRoot(containers.RootOf(p))
	})
}
