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
	err := l.updateConfig(func(c *redirectConfig) {
		*c = redirectConfig{Mark: l.cfg.Mark, ExcludedTgid: tgid, ExcludedCgroup: cgroupID}
	})
	if err != nil {
		return err
	}
	if err := l.resetNetnsListeners(); err != nil {
		return err
	}
	return l.SetListeners(l.cfg.ListenV4, l.cfg.ListenV6)
}

// SetListeners tells the kernel where to redirect connections made in the
// host's (the loader's) network namespace. A port of 0 makes the programs
// refuse target connections for that family.
func (l *Loader) SetListeners(v4, v6 netip.AddrPort) error {
	return l.SetNetnsListener(l.hostNetns, v4, v6)
}

// SetNetnsListener tells the kernel where to redirect connections made in
// the network namespace whose cookie is netns.
func (l *Loader) SetNetnsListener(netns uint64, v4, v6 netip.AddrPort) error {
	var e redirectNetnsListener
	if a := v4.Addr().Unmap(); a.Is4() {
		e.ListenV4, e.PortV4 = ip4Word(a), htons(v4.Port())
	}
	if a := v6.Addr(); a.Is6() {
		e.ListenV6, e.PortV6 = ip6Words(a), htons(v6.Port())
	}
	if err := l.objs.NetnsListeners.Update(netns, &e, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("setting the listener of netns %d: %w", netns, err)
	}
	return nil
}

// DeleteNetnsListener forgets a namespace's listener: its next target
// connection is refused and reported again.
func (l *Loader) DeleteNetnsListener(netns uint64) error {
	err := l.objs.NetnsListeners.Delete(netns)
	if err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("deleting the listener of netns %d: %w", netns, err)
	}
	return nil
}

// resetNetnsListeners drops what an earlier daemon registered: its
// listeners died with it, so those namespaces start over at first contact.
func (l *Loader) resetNetnsListeners() error {
	var keys []uint64
	var k uint64
	var v redirectNetnsListener
	for it := l.objs.NetnsListeners.Iterate(); it.Next(&k, &v); {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil
	}
	if _, err := l.objs.NetnsListeners.BatchDelete(keys, nil); err != nil {
		return fmt.Errorf("clearing netns listeners: %w", err)
	}
	return nil
}

// setExclusions sets the tgid and cgroup guards (0 = off).
func (l *Loader) setExclusions(tgid uint32, cgroupID uint64) error {
	return l.updateConfig(func(c *redirectConfig) {
		c.ExcludedTgid, c.ExcludedCgroup = tgid, cgroupID
	})
}

// Lookup returns the record of the redirected connection whose client is
// peer (the remote address our listener in namespace netns accepted), and
// forgets it so a later connection reusing the port cannot inherit it.
// ErrNoRecord if none.
func (l *Loader) Lookup(netns uint64, peer netip.AddrPort) (Record, error) {
	key := peerKey(netns, peer)
	var r redirectRecord
	err := l.objs.RecordsByPeer.LookupAndDelete(&key, &r)
	if errors.Is(err, ebpf.ErrNotSupported) { // hash LookupAndDelete needs 5.14
		if err = l.objs.RecordsByPeer.Lookup(&key, &r); err == nil {
			_ = l.objs.RecordsByPeer.Delete(&key)
		}
	}
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		return Record{}, fmt.Errorf("%w %s (netns %d)", ErrNoRecord, peer, netns)
	}
	if err != nil {
		return Record{}, fmt.Errorf("looking up record of %s: %w", peer, err)
	}
	return recordFrom(&r), nil
}

func peerKey(netns uint64, peer netip.AddrPort) redirectPeerKey {
	a := peer.Addr().Unmap()
	k := redirectPeerKey{Netns: netns, Port: peer.Port(), Family: syscall.AF_INET6}
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
	s, err := sumPerCPU(l.objs.Counters, 5)
	if err != nil {
		return Counters{}, err
	}
	return Counters{Redirected: s[0], Skipped: s[1], Excluded: s[2], MapFull: s[3], Refused: s[4]}, nil
}

// NetnsCounters reads the kernel's first-contact counters.
func (l *Loader) NetnsCounters() (NetnsCounters, error) {
	s, err := sumPerCPU(l.objs.NetnsCounters, 4)
	if err != nil {
		return NetnsCounters{}, err
	}
	return NetnsCounters{Refused: s[0], ReportLost: s[1], Held: s[2], HeldPassed: s[3]}, nil
}

// holdRTO is a held SYN's first retransmission in jiffies: 25 ms at
// HZ=1000, 100 ms at Debian's 250. Doubling from there, a hold the daemon
// never releases ends in ETIMEDOUT after 127 of them (3 s to 13 s).
const holdRTO = 25

// SetHold makes connections from namespaces without a listener wait at
// the hold address (bpf/include/hold.h) instead of being refused; the
// daemon must then open listeners there (Namespaces.Run). Zero addresses
// turn the hold off: such connections are refused at once.
func (l *Loader) SetHold(v4, v6 netip.AddrPort) error {
	return l.updateConfig(func(c *redirectConfig) {
		c.HoldV4, c.HoldV6, c.HoldPort, c.HoldRto = 0, [4]uint32{}, 0, 0
		if !v4.IsValid() || v4.Port() != v6.Port() {
			return
		}
		c.HoldV4, c.HoldV6 = ip4Word(v4.Addr()), ip6Words(v6.Addr())
		c.HoldPort, c.HoldRto = htons(v4.Port()), holdRTO
	})
}

func sumPerCPU(m *ebpf.Map, n int) ([]uint64, error) {
	sums := make([]uint64, n)
	for i := range sums {
		var perCPU []uint64
		if err := m.Lookup(uint32(i), &perCPU); err != nil {
			return nil, fmt.Errorf("reading counter %d: %w", i, err)
		}
		for _, v := range perCPU {
			sums[i] += v
		}
	}
	return sums, nil
}
