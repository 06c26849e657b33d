//go:build !linux

package intercept

import "net/netip"

// Loader is unavailable off linux; Load returns ErrUnsupported.
type Loader struct{}

// Cgroup2Mount returns ErrUnsupported: cgroup v2 is linux's.
func Cgroup2Mount() (string, error) { return "", ErrUnsupported }

// Load returns ErrUnsupported.
func Load(Config) (*Loader, error) { return nil, ErrUnsupported }

// Uninstall returns ErrUnsupported.
func Uninstall(string) error { return ErrUnsupported }

// SetListeners returns ErrUnsupported.
func (*Loader) SetListeners(v4, v6 netip.AddrPort) error { return ErrUnsupported }

// SetTargets returns ErrUnsupported.
func (*Loader) SetTargets([]Target) error { return ErrUnsupported }

// Targets returns ErrUnsupported.
func (*Loader) Targets() ([]Target, error) { return nil, ErrUnsupported }

// Lookup returns ErrUnsupported.
func (*Loader) Lookup(uint64, netip.AddrPort) (Record, error) { return Record{}, ErrUnsupported }

// Counters returns ErrUnsupported.
func (*Loader) Counters() (Counters, error) { return Counters{}, ErrUnsupported }

// CgroupPath is empty off linux.
func (*Loader) CgroupPath() string { return "" }

// Close does nothing.
func (*Loader) Close() error { return nil }

// Detach returns ErrUnsupported.
func (*Loader) Detach() error { return ErrUnsupported }

// NetnsCounters returns ErrUnsupported.
func (*Loader) NetnsCounters() (NetnsCounters, error) { return NetnsCounters{}, ErrUnsupported }
