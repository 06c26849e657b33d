//go:build linux

package intercept

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"syscall"

	"github.com/cilium/ebpf"
)

func ip4Word(a netip.Addr) uint32 {
	b := a.As4()
	return binary.LittleEndian.Uint32(b[:])
}

func ip6Words(a netip.Addr) (w [4]uint32) {
	b := a.As16()
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(b[i*4:])
	}
	return w
}

func (l *Loader) readConfig() (redirectConfig, error) {
	var c redirectConfig
	err := l.objs.ConfigMap.Lookup(uint32(0), &c)
	return c, err
}

func (l *Loader) updateConfig(edit func(*redirectConfig)) error {
	c, err := l.readConfig()
	if err != nil {
		return fmt.Errorf("reading config map: %w", err)
	}
	edit(&c)
	if err := l.objs.ConfigMap.Update(uint32(0), &c, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("writing config map: %w", err)
	}
	return nil
}

func (l *Loader) writeInitialConfig() error {
	tgid, cgroupID := uint32(0), uint64(0)
	if l.cfg.ExcludeSelf {
		id, err := ownCgroupID()
		if err != nil {
			return err
		}
		tgid, cgroupID = uint32(os.Getpid()), id
	}
	if err := l.setExclusions(tgid, cgroupID); err != nil {
		return err
	}
	return l.SetListeners(l.cfg.ListenV4, l.cfg.ListenV6)
}

// SetListeners tells the kernel where to redirect to. A port of 0 makes
// the programs refuse target connections for that family.
func (l *Loader) SetListeners(v4, v6 netip.AddrPort) error {
	return l.updateConfig(func(c *redirectConfig) {
		*c = redirectConfig{ExcludedTgid: c.ExcludedTgid, ExcludedCgroup: c.ExcludedCgroup, Mark: l.cfg.Mark}
		if a := v4.Addr().Unmap(); a.Is4() {
			c.ListenV4, c.PortV4 = ip4Word(a), htons(v4.Port())
		}
		if a := v6.Addr(); a.Is6() {
			c.ListenV6, c.PortV6 = ip6Words(a), htons(v6.Port())
		}
	})
}

// setExclusions sets the tgid and cgroup guards (0 = off).
func (l *Loader) setExclusions(tgid uint32, cgroupID uint64) error {
	return l.updateConfig(func(c *redirectConfig) {
		c.ExcludedTgid, c.ExcludedCgroup = tgid, cgroupID
	})
}

// Lookup returns the record of the redirected connection whose client is
// peer (the remote address our listener accepted), and forgets it so a
// later connection reusing the port cannot inherit it. ErrNoRecord if none.
func (l *Loader) Lookup(peer netip.AddrPort) (Record, error) {
	key := peerKey(peer)
	var r redirectRecord
	err := l.objs.RecordsByPeer.LookupAndDelete(&key, &r)
	if errors.Is(err, ebpf.ErrNotSupported) { // hash LookupAndDelete needs 5.14
		if err = l.objs.RecordsByPeer.Lookup(&key, &r); err == nil {
			_ = l.objs.RecordsByPeer.Delete(&key)
		}
	}
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		return Record{}, fmt.Errorf("%w %s", ErrNoRecord, peer)
	}
	if err != nil {
		return Record{}, fmt.Errorf("looking up record of %s: %w", peer, err)
	}
	return recordFrom(&r), nil
}

func peerKey(peer netip.AddrPort) redirectPeerKey {
	a := peer.Addr().Unmap()
	k := redirectPeerKey{Port: peer.Port(), Family: syscall.AF_INET6}
	if a.Is4() {
		k.Family, k.Ip[0] = syscall.AF_INET, ip4Word(a)
		return k
	}
	k.Ip = ip6Words(a)
	return k
}

func recordFrom(r *redirectRecord) Record {
	var b [16]byte
	for i, w := range r.DstIp {
		binary.LittleEndian.PutUint32(b[i*4:], w)
	}
	addr := netip.AddrFrom16(b)
	if r.Family == syscall.AF_INET {
		addr = netip.AddrFrom4([4]byte(b[:4]))
	}
	return Record{
		Dst: netip.AddrPortFrom(addr, htons(r.DstPort)), TGID: r.Tgid, UID: r.Uid, GID: r.Gid,
		CgroupID: r.CgroupId, Comm: cString(r.Comm[:]),
		NetnsCookie: r.NetnsCookie, KtimeNS: r.KtimeNs,
		Identity: Identity{ExeIno: r.ExeIno, ExeMajor: r.ExeDev >> 20, ExeMinor: r.ExeDev & (1<<20 - 1),
			ExeName: cString(r.ExeName[:]), StartBoottime: r.StartBoottime},
	}
}

// cString is a NUL-padded C char array as a Go string.
func cString(cs []int8) string {
	b := make([]byte, 0, len(cs))
	for _, c := range cs {
		b = append(b, byte(c))
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// Counters sums the kernel's per-CPU counters.
func (l *Loader) Counters() (Counters, error) {
	var sums [5]uint64
	for i := range sums {
		var perCPU []uint64
		if err := l.objs.Counters.Lookup(uint32(i), &perCPU); err != nil {
			return Counters{}, fmt.Errorf("reading counter %d: %w", i, err)
		}
		for _, v := range perCPU {
			sums[i] += v
		}
	}
	return Counters{Redirected: sums[0], Skipped: sums[1], Excluded: sums[2], MapFull: sums[3], Refused: sums[4]}, nil
}
