//go:build linux

package intercept

import (
	"context"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"
)

// cgroupWatch notices cgroups created under the captured cgroup and
// processes arriving in them, so a container's namespace usually has its listener before
// its first connect().
type cgroupWatch struct {
	w   *fsnotify.Watcher
	log *zap.Logger
}

// rescanAfter are the extra looks at a cgroup that just filled: runtimes
// such as runc place a process in its cgroup before it unshares its network
// namespace. What these miss is caught at first contact.
var rescanAfter = []time.Duration{5 * time.Millisecond, 25 * time.Millisecond, 100 * time.Millisecond, 500 * time.Millisecond}

func newCgroupWatch(root string, log *zap.Logger) (*cgroupWatch, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	c := &cgroupWatch{w: w, log: log}
	c.addTree(root)
	return c, nil
}

// addTree watches dir and every cgroup below it.
func (c *cgroupWatch) addTree(dir string) {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		// The directory for new cgroups and runtimes' writes to cgroup.procs;
		// cgroup.events itself, as the kernel notifies only its own watchers
		// when a cgroup fills (clone3 into a cgroup writes no file).
		for _, p := range []string{path, filepath.Join(path, "cgroup.events")} {
			if err := c.w.Add(p); err != nil {
				c.log.Debug("watching cgroup", zap.String("path", p), zap.Error(err))
			}
		}
		return nil
	})
}

// run calls scan(dir) for each cgroup that appears or changes until ctx is
// done, then closes the watcher.
func (c *cgroupWatch) run(ctx context.Context, scan func(dir string)) {
	defer c.w.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case err := <-c.w.Errors:
			c.log.Warn("cgroup watch", zap.Error(err))
		case ev, ok := <-c.w.Events:
			if !ok {
				return
			}
			c.handle(ctx, ev, scan)
		}
	}
}

func (c *cgroupWatch) handle(ctx context.Context, ev fsnotify.Event, scan func(dir string)) {
	switch {
	case ev.Has(fsnotify.Create):
		c.addTree(ev.Name)
		c.scanTree(ctx, ev.Name, scan)
	case ev.Has(fsnotify.Write) && (filepath.Base(ev.Name) == "cgroup.events" || filepath.Base(ev.Name) == "cgroup.procs"):
		c.scanSoon(ctx, filepath.Dir(ev.Name), scan)
	}
}

func (c *cgroupWatch) scanTree(ctx context.Context, dir string, scan func(string)) {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			c.scanSoon(ctx, path, scan)
		}
		return nil
	})
}

// scanSoon scans now and a few times shortly after.
func (c *cgroupWatch) scanSoon(ctx context.Context, dir string, scan func(string)) {
	scan(dir)
	for _, d := range rescanAfter {
		time.AfterFunc(d, func() {
			if ctx.Err() == nil {
				scan(dir)
			}
		})
	}
}
