//go:build linux

package intercept

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/cilium/ebpf"
)

// SetTargets replaces the kernel's target set with ts: new entries are
// inserted before stale ones are deleted, so a destination present in both
// the old and new set is never missing, even for an instant.
//
// The address ranges (every port) are synced first: a prefix being added is
// refused, never let through, until its (prefix, port) targets follow.
func (l *Loader) SetTargets(ts []Target) error {
	r4, r6 := rangeKeys(ts)
	if err := syncTrie(l.objs.RangesV4, r4); err != nil {
		return fmt.Errorf("updating IPv4 ranges: %w", err)
	}
	if err := syncTrie(l.objs.RangesV6, r6); err != nil {
		return fmt.Errorf("updating IPv6 ranges: %w", err)
	}
	v4, v6 := targetKeys(ts)
	if err := syncTrie(l.objs.TargetsV4, v4); err != nil {
		return fmt.Errorf("updating IPv4 targets: %w", err)
	}
	if err := syncTrie(l.objs.TargetsV6, v6); err != nil {
		return fmt.Errorf("updating IPv6 targets: %w", err)
	}
	return nil
}

// Targets returns the kernel's current target set.
func (l *Loader) Targets() ([]Target, error) {
	var out []Target
	var k4 redirectTargetV4
	var k6 redirectTargetV6
	var v uint8
	it := l.objs.TargetsV4.Iterate()
	for it.Next(&k4, &v) {
		out = append(out, targetFromV4(k4))
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	it = l.objs.TargetsV6.Iterate()
	for it.Next(&k6, &v) {
		out = append(out, targetFromV6(k6))
	}
	return out, it.Err()
}

func targetKeys(ts []Target) (v4 map[redirectTargetV4]bool, v6 map[redirectTargetV6]bool) {
	v4, v6 = map[redirectTargetV4]bool{}, map[redirectTargetV6]bool{}
	for _, t := range ts {
		p := t.Prefix.Masked()
		if p.Addr().Is4() {
			v4[redirectTargetV4{Prefixlen: 16 + uint32(p.Bits()), Port: htons(t.Port), Addr: p.Addr().As4()}] = true
		} else {
			v6[redirectTargetV6{Prefixlen: 16 + uint32(p.Bits()), Port: htons(t.Port), Addr: p.Addr().As16()}] = true
		}
	}
	return v4, v6
}

// rangeKeys are the targets' prefixes without their ports.
func rangeKeys(ts []Target) (v4 map[redirectRangeV4]bool, v6 map[redirectRangeV6]bool) {
	v4, v6 = map[redirectRangeV4]bool{}, map[redirectRangeV6]bool{}
	for _, t := range ts {
		p := t.Prefix.Masked()
		if p.Addr().Is4() {
			v4[redirectRangeV4{Prefixlen: uint32(p.Bits()), Addr: p.Addr().As4()}] = true
		} else {
			v6[redirectRangeV6{Prefixlen: uint32(p.Bits()), Addr: p.Addr().As16()}] = true
		}
	}
	return v4, v6
}

func syncTrie[K comparable](m *ebpf.Map, want map[K]bool) error {
	var have []K
	var k K
	var v uint8
	it := m.Iterate()
	for it.Next(&k, &v) {
		have = append(have, k)
	}
	if err := it.Err(); err != nil {
		return err
	}
	for key := range want {
		if err := m.Update(&key, uint8(1), ebpf.UpdateAny); err != nil {
			return fmt.Errorf("inserting target: %w", err)
		}
	}
	for _, key := range have {
		if want[key] {
			continue
		}
		if err := m.Delete(&key); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("deleting stale target: %w", err)
		}
	}
	return nil
}

func targetFromV4(k redirectTargetV4) Target {
	p := netip.PrefixFrom(netip.AddrFrom4(k.Addr), int(k.Prefixlen)-16)
	return Target{Prefix: p, Port: htons(k.Port)}
}

func targetFromV6(k redirectTargetV6) Target {
	p := netip.PrefixFrom(netip.AddrFrom16(k.Addr), int(k.Prefixlen)-16)
	return Target{Prefix: p, Port: htons(k.Port)}
}
