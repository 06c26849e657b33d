//go:build linux

package intercept

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/ringbuf"
	"go.uber.org/zap"
)

// Run finds namespaces until ctx is done: every process already under the
// captured cgroup, new cgroups as they fill (watchCgroups), and namespaces
// the kernel reports at first contact. Close releases what it opened.
func (n *Namespaces) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n.mu.Lock()
	closed := n.closed
	n.stopRun = cancel
	n.mu.Unlock()
	if closed {
		return nil
	}
	rd, err := ringbuf.NewReader(n.loader.objs.NetnsEvents)
	if err != nil {
		return fmt.Errorf("reading netns events: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { rd.Close() })
	defer stop()
	w, err := newCgroupWatch(n.loader.CgroupPath(), n.log)
	if err != nil {
		rd.Close()
		return err
	}
	if err := n.hold(); err != nil {
		w.w.Close()
		rd.Close()
		return err
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		w.run(ctx, func(dir string) { n.scan(ctx, dir) })
	}()
	n.scanTree(ctx)
	return n.readEvents(ctx, rd)
}

// hold turns the first-contact hold on, unless Close already ran (it
// turns it off).
func (n *Namespaces) hold() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	if err := n.loader.SetHold(netnsListenV4, netnsListenV6); err != nil {
		return fmt.Errorf("holding first contacts: %w", err)
	}
	return nil
}

// readEvents serves the namespace of each process the kernel refused.
func (n *Namespaces) readEvents(ctx context.Context, rd *ringbuf.Reader) error {
	defer rd.Close()
	for {
		rec, err := rd.Read()
		if errors.Is(err, ringbuf.ErrClosed) || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading netns events: %w", err)
		}
		if len(rec.RawSample) < 24 {
			continue
		}
		cookie := binary.LittleEndian.Uint64(rec.RawSample[0:])
		pid := int(binary.LittleEndian.Uint32(rec.RawSample[16:]))
		if cookie == n.loader.HostNetns() {
			continue // the host listener is (re)registering
		}
		n.firstContact.Add(1)
		n.serveFirstContact(ctx, cookie, pid)
	}
}

// serveFirstContact serves the namespace a connection came from without a
// listener there, and counts and logs one it turns away.
func (n *Namespaces) serveFirstContact(ctx context.Context, cookie uint64, pid int) {
	err := n.Ensure(ctx, pid)
	if errors.Is(err, ErrTooManyNamespaces) {
		n.overLimit.Add(1)
	}
	if err != nil && n.worthLogging(err) {
		n.log.Warn("serving a namespace at first contact", zap.Uint64("netns", cookie), zap.Int("pid", pid),
			zap.Uint64("over_limit", n.overLimit.Load()), zap.Error(err))
	}
}

// worthLogging: a turn-away at the bound is logged at its 1st, 2nd, 4th,
// 8th… occurrence (with the count), not at each connect(): a process that
// keeps connecting from namespaces past the bound cannot flood the log.
// Every other failure is logged.
func (n *Namespaces) worthLogging(err error) bool {
	if !errors.Is(err, ErrTooManyNamespaces) {
		return true
	}
	c := n.overLimit.Load()
	return c&(c-1) == 0
}

// scanTree serves the namespaces of every process under the captured cgroup.
func (n *Namespaces) scanTree(ctx context.Context) {
	for _, pid := range capturedPIDs(n.loader.CgroupPath()) {
		n.ensureLogged(ctx, pid)
	}
}

// scan serves the namespaces of the processes directly in one cgroup.
func (n *Namespaces) scan(ctx context.Context, dir string) {
	for _, pid := range procsOf(dir) {
		n.ensureLogged(ctx, pid)
	}
}

func (n *Namespaces) ensureLogged(ctx context.Context, pid int) {
	if err := n.Ensure(ctx, pid); err != nil && !errors.Is(err, os.ErrNotExist) {
		n.log.Debug("serving a namespace", zap.Int("pid", pid), zap.Error(err))
	}
}

// capturedPIDs lists the processes in root and every cgroup below it.
func capturedPIDs(root string) []int {
	var pids []int
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a cgroup removed while walking
		}
		if d.IsDir() {
			pids = append(pids, procsOf(path)...)
		}
		return nil
	})
	return pids
}

// procsOf reads the process ids directly in one cgroup.
func procsOf(dir string) []int {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var pids []int
	for line := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
		if pid, err := strconv.Atoi(line); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}
