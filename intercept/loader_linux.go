//go:build linux

package intercept

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// hook is one program and where it attaches.
type hook struct {
	name   string // also the link's pin file name
	attach ebpf.AttachType
	prog   func(*redirectObjects) *ebpf.Program
}

var hooks = []hook{
	{"link_connect4", ebpf.AttachCGroupInet4Connect, func(o *redirectObjects) *ebpf.Program { return o.AirlockConnect4 }},
	{"link_connect6", ebpf.AttachCGroupInet6Connect, func(o *redirectObjects) *ebpf.Program { return o.AirlockConnect6 }},
	{"link_getpeername4", ebpf.AttachCgroupInet4GetPeername, func(o *redirectObjects) *ebpf.Program { return o.AirlockGetpeername4 }},
	{"link_getpeername6", ebpf.AttachCgroupInet6GetPeername, func(o *redirectObjects) *ebpf.Program { return o.AirlockGetpeername6 }},
	{"link_sockops", ebpf.AttachCGroupSockOps, func(o *redirectObjects) *ebpf.Program { return o.AirlockSockops }},
	{"link_sendmsg4", ebpf.AttachCGroupUDP4Sendmsg, func(o *redirectObjects) *ebpf.Program { return o.AirlockSendmsg4 }},
	{"link_sendmsg6", ebpf.AttachCGroupUDP6Sendmsg, func(o *redirectObjects) *ebpf.Program { return o.AirlockSendmsg6 }},
	{"link_hold", ebpf.AttachCGroupInetEgress, func(o *redirectObjects) *ebpf.Program { return o.AirlockHold }},
}

// Loader owns the loaded programs, their cgroup links and the maps. All
// of them are pinned under Config.PinDir: Close keeps them (fail closed),
// Detach removes them. Load adopts what an earlier daemon pinned.
type Loader struct {
	cfg        Config
	cgroupPath string
	hostNetns  uint64 // netns cookie of the loader's own (the host's) namespace
	objs       redirectObjects
	links      []link.Link
}

// Load loads the eBPF collection, reusing pinned maps, and attaches it to
// the configured cgroup — or, when an earlier daemon left pinned links,
// updates those links to the new programs instead of attaching twice.
// The listener addresses of cfg are written to the kernel; call
// SetListeners once the real ports are known.
func Load(cfg Config) (*Loader, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cgroupPath, err := resolveCgroup(cfg.CgroupPath)
	if err != nil {
		return nil, err
	}
	if err := preparePinDir(cfg.PinDir); err != nil {
		return nil, err
	}
	hostNetns, err := ownNetnsCookie()
	if err != nil {
		return nil, err
	}
	l := &Loader{cfg: cfg, cgroupPath: cgroupPath, hostNetns: hostNetns}
	if err := l.loadObjects(); err != nil {
		return nil, err
	}
	if err := l.writeInitialConfig(); err != nil {
		l.objs.Close()
		return nil, err
	}
	if err := l.attachAll(); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// CgroupPath is the cgroup v2 directory the programs are attached to.
func (l *Loader) CgroupPath() string { return l.cgroupPath }

// HostNetns is the netns cookie of the namespace the loader runs in.
func (l *Loader) HostNetns() uint64 { return l.hostNetns }

func (l *Loader) loadObjects() error {
	spec, err := loadRedirect()
	if err != nil {
		return fmt.Errorf("parsing embedded eBPF objects: %w", err)
	}
	for _, m := range spec.Maps {
		m.Pinning = ebpf.PinByName
	}
	opts := &ebpf.CollectionOptions{Maps: ebpf.MapOptions{PinPath: l.cfg.PinDir}}
	err = spec.LoadAndAssign(&l.objs, opts)
	if errors.Is(err, ebpf.ErrMapIncompatible) {
		// An older daemon pinned maps of another layout: start them afresh.
		// Its links keep working on the old maps until updated below.
		removeMapPins(l.cfg.PinDir, spec)
		err = spec.LoadAndAssign(&l.objs, opts)
	}
	if err != nil {
		return loadError(err)
	}
	return nil
}

func removeMapPins(dir string, spec *ebpf.CollectionSpec) {
	for name := range spec.Maps {
		_ = os.Remove(filepath.Join(dir, name))
	}
}

func (l *Loader) attachAll() error {
	for _, h := range hooks {
		lk, err := l.attachOrAdopt(h)
		if err != nil {
			return err
		}
		l.links = append(l.links, lk)
	}
	return nil
}

// attachOrAdopt updates a pinned link in place (link.Update) or attaches
// and pins a new one.
func (l *Loader) attachOrAdopt(h hook) (link.Link, error) {
	pin := filepath.Join(l.cfg.PinDir, h.name)
	prog := h.prog(&l.objs)
	if lk, err := link.LoadPinnedLink(pin, nil); err == nil {
		if err := lk.Update(prog); err != nil {
			lk.Close()
			return nil, fmt.Errorf("updating pinned link %s: %w", pin, err)
		}
		return lk, nil
	}
	lk, err := link.AttachCgroup(link.CgroupOptions{Path: l.cgroupPath, Attach: h.attach, Program: prog})
	if err != nil {
		return nil, attachError(h.name, l.cgroupPath, err)
	}
	if err := lk.Pin(pin); err != nil {
		lk.Close()
		return nil, fmt.Errorf("pinning %s: %w", pin, err)
	}
	return lk, nil
}

// Close releases this process's handles. Pinned links and maps stay in the
// kernel, so interception continues (and fails closed) without a daemon.
func (l *Loader) Close() error {
	var errs []error
	for _, lk := range l.links {
		errs = append(errs, lk.Close())
	}
	l.links = nil
	errs = append(errs, l.objs.Close())
	return errors.Join(errs...)
}

// Detach removes every link and pin: the cgroup is no longer intercepted.
func (l *Loader) Detach() error {
	var errs []error
	for _, lk := range l.links {
		errs = append(errs, lk.Unpin())
	}
	errs = append(errs, l.Close(), Uninstall(l.cfg.PinDir))
	return errors.Join(errs...)
}

// Uninstall detaches and unpins whatever a daemon left under pinDir (the
// operator's `airlock uninstall`, with or without a running daemon).
func Uninstall(pinDir string) error {
	var errs []error
	for _, h := range hooks {
		pin := filepath.Join(pinDir, h.name)
		if lk, err := link.LoadPinnedLink(pin, nil); err == nil {
			errs = append(errs, lk.Unpin(), lk.Close())
		}
	}
	entries, err := os.ReadDir(pinDir)
	if errors.Is(err, os.ErrNotExist) {
		return errors.Join(errs...)
	}
	for _, e := range entries {
		errs = append(errs, os.Remove(filepath.Join(pinDir, e.Name())))
	}
	errs = append(errs, os.Remove(pinDir))
	return errors.Join(errs...)
}
