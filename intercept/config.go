package intercept

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/airlock-dev/airlock/caller"
)

// Defaults applied by Config.WithDefaults.
const (
	DefaultPinDir         = "/sys/fs/bpf/airlock"
	DefaultMark           = 0x41524c4b // "ARLK": the daemon draws its own (RandomMark); tests use this
	DefaultPeekTimeout    = 10 * time.Second
	DefaultMaxClientHello = 16 * 1024
	DefaultMaxNamespaces  = 4096
	// MaxNamespacesLimit is the most MaxNamespaces may be: the kernel's
	// table of namespace listeners (netns_listeners in bpf/include/maps.h)
	// holds that many, the host's own included.
	MaxNamespacesLimit = 16384 - 1
)

var (
	// DefaultListenV4 and DefaultListenV6 are where redirected connections land.
	DefaultListenV4 = netip.MustParseAddrPort("127.0.0.1:15443")
	DefaultListenV6 = netip.MustParseAddrPort("[::1]:15443")
	// Inside other network namespaces the listeners take the hold address
	// (bpf/include/hold.h): a connection made there before the listener
	// existed was sent to it, and is let through once it listens. Not a
	// privileged port: the unit's capabilities do not include
	// CAP_NET_BIND_SERVICE, and Docker lets any container process bind
	// every port (ip_unprivileged_port_start=0). If something holds it, the
	// listener takes an ephemeral port and first contacts there time out
	// instead (never leak).
	netnsListenV4 = netip.MustParseAddrPort("127.65.82.76:15443")
	netnsListenV6 = netip.MustParseAddrPort("[::1]:15443")
	// DefaultTargets are Anthropic's published inbound ranges.
	DefaultTargets = []netip.Prefix{
		netip.MustParsePrefix("160.79.104.0/23"),
		netip.MustParsePrefix("2607:6bc0::/48"),
	}
	DefaultHosts    = []string{"api.anthropic.com"}
	DefaultPorts    = []uint16{443}
	DefaultAPIHosts = []string{"api.anthropic.com"}
)

// RandomMark draws an SO_MARK for one daemon run. It is never 0 (no mark)
// and leaves bits 0x4000 and 0x8000 clear: kube-proxy masquerades and
// drops packets carrying those.
func RandomMark() uint32 {
	for {
		var b [4]byte
		_, _ = rand.Read(b[:])
		if m := binary.LittleEndian.Uint32(b[:]) &^ 0xc000; m != 0 {
			return m
		}
	}
}

// Config is capture's typed configuration; cmd/airlockd decodes it and
// passes it down. Zero values mean "use the default" (see WithDefaults),
// except Hosts/Targets, which are only defaulted when both are empty.
type Config struct {
	CgroupPath     string // "" = autodetect the cgroup2 mount (also /sys/fs/cgroup/unified)
	PinDir         string // default /sys/fs/bpf/airlock
	Mark           uint32 // SO_MARK of the daemon's own sockets, skipped by connect4/6
	ExcludeSelf    bool   // exclude this process's tgid and its own cgroup
	ListenV4       netip.AddrPort
	ListenV6       netip.AddrPort // port 0 allowed (tests): the bound port is written to the kernel
	Targets        []netip.Prefix
	Ports          []uint16 // default 443
	Hosts          []string // resolved (with TTLs) and merged into the target set
	APIHosts       []string // SNIs handed to the APIHandler; default api.anthropic.com
	RelayAllow     []string // other SNIs relayed unchanged (audited); every other SNI is refused
	PeekTimeout    time.Duration
	MaxClientHello int
	MaxNamespaces  int // network namespaces served at once; default 4096

	// holdFallback: a listener inside a container's namespace binds an
	// ephemeral port when its hold address is taken.
	holdFallback bool
}

// WithDefaults returns c with every unset field filled in.
func (c Config) WithDefaults() Config {
	if c.PinDir == "" {
		c.PinDir = DefaultPinDir
	}
	if c.Mark == 0 {
		c.Mark = DefaultMark
	}
	if !c.ListenV4.IsValid() {
		c.ListenV4 = DefaultListenV4
	}
	if !c.ListenV6.IsValid() {
		c.ListenV6 = DefaultListenV6
	}
	if len(c.Targets) == 0 && len(c.Hosts) == 0 {
		c.Targets, c.Hosts = DefaultTargets, DefaultHosts
	}
	if len(c.Ports) == 0 {
		c.Ports = DefaultPorts
	}
	if len(c.APIHosts) == 0 {
		c.APIHosts = DefaultAPIHosts
	}
	if c.PeekTimeout <= 0 {
		c.PeekTimeout = DefaultPeekTimeout
	}
	if c.MaxClientHello <= 0 {
		c.MaxClientHello = DefaultMaxClientHello
	}
	if c.MaxNamespaces <= 0 {
		c.MaxNamespaces = DefaultMaxNamespaces
	}
	return c
}

// Validate reports every problem of c (after WithDefaults) at once.
func (c Config) Validate() error {
	var errs []error
	if !c.ListenV4.Addr().Is4() {
		errs = append(errs, fmt.Errorf("listen_v4 %s: not an IPv4 address", c.ListenV4))
	}
	if !c.ListenV6.Addr().Is6() || c.ListenV6.Addr().Is4In6() {
		errs = append(errs, fmt.Errorf("listen_v6 %s: not an IPv6 address", c.ListenV6))
	}
	for _, p := range c.Targets {
		if !p.IsValid() {
			errs = append(errs, fmt.Errorf("targets: invalid prefix %s", p))
		}
	}
	for _, port := range c.Ports {
		if port == 0 {
			errs = append(errs, errors.New("ports: 0 is not a destination port"))
		}
	}
	if c.MaxNamespaces > MaxNamespacesLimit {
		errs = append(errs, fmt.Errorf("max_namespaces %d: at most %d", c.MaxNamespaces, MaxNamespacesLimit))
	}
	return errors.Join(errs...)
}

// APIHandler receives connections whose SNI is a configured API host.
// Reading conn yields the ClientHello first (it was peeked, not consumed).
// ServeAPI owns conn and must close it.
type APIHandler interface {
	ServeAPI(ctx context.Context, conn net.Conn, origin *caller.Origin)
}

// APIHandlerFunc adapts a function to APIHandler.
type APIHandlerFunc func(ctx context.Context, conn net.Conn, origin *caller.Origin)

// ServeAPI calls f.
func (f APIHandlerFunc) ServeAPI(ctx context.Context, conn net.Conn, origin *caller.Origin) {
	f(ctx, conn, origin)
}

// Target is one entry of the kernel's target set: a prefix and a port.
type Target struct {
	Prefix netip.Prefix
	Port   uint16
}

func (t Target) String() string { return fmt.Sprintf("%s:%d", t.Prefix, t.Port) }

// Record is what connect4/6 remembered about a redirected connection.
type Record struct {
	Dst         netip.AddrPort // the destination the application dialled (unmapped)
	TGID        uint32
	UID, GID    uint32
	CgroupID    uint64
	Comm        string
	NetnsCookie uint64
	KtimeNS     uint64 // CLOCK_MONOTONIC nanoseconds at connect()
	Identity    Identity
}

// Identity is who called connect(), as the kernel saw it then: the
// listener checks it against /proc at accept.
type Identity struct {
	ExeIno        uint64
	ExeMajor      uint32
	ExeMinor      uint32
	ExeName       string // the executable's file name (the last path component only)
	StartBoottime uint64 // the thread group's start, ns since boot (as /proc/<pid>/stat's starttime)
}

// Counters are the kernel's per-CPU counters, summed.
type Counters struct {
	Redirected uint64 // connections rewritten to the listener
	Skipped    uint64 // not a target (address, port or protocol)
	Excluded   uint64 // a target, but the daemon's own (mark, tgid or cgroup)
	MapFull    uint64 // record could not be stored: connection refused
	Refused    uint64 // an API address, but UDP or a port that is not captured: refused
}

// NamespaceStats are the figures `airlock status` and the metrics show.
type NamespaceStats struct {
	Served       int    `json:"served"`        // namespaces with a listener now
	Opened       uint64 `json:"opened"`        // listeners opened since start
	Released     uint64 `json:"released"`      // listeners released (namespace emptied)
	FirstContact uint64 `json:"first_contact"` // namespaces the kernel reported
	Refused      uint64 `json:"refused"`       // connections refused for want of a listener
	Held         uint64 `json:"held"`          // connections held at first contact
	HeldPassed   uint64 `json:"held_passed"`   // held connections let through to a new listener
	Failures     uint64 `json:"failures"`      // listeners that could not be opened
	OverLimit    uint64 `json:"over_limit"`    // first contacts turned away at MaxNamespaces
}

// OpenedNamespace is a network namespace Namespaces has begun to serve.
type OpenedNamespace struct {
	PID    int    // the process it was found through; it may have exited since
	Cookie uint64 // the kernel's netns cookie, as the audit names it
	Inode  uint64 // /proc/PID/ns/net's inode, shared by every process in it
}

// NetnsCounters are the kernel's first-contact counters.
type NetnsCounters struct {
	Refused    uint64 // refused: no listener in the caller's namespace and no hold
	ReportLost uint64 // first-contact reports lost (the event ring was full)
	Held       uint64 // held at first contact
	HeldPassed uint64 // held SYNs let through once the listener was registered
}

// ErrNoRecord is returned by RecordLookup when the peer is unknown to the kernel.
var ErrNoRecord = errors.New("no redirect record for peer")

// ErrUnsupported is returned on platforms without eBPF cgroup hooks.
var ErrUnsupported = errors.New("intercept: eBPF capture is only supported on linux")

// RecordLookup finds the record of a redirected connection by the
// listener's network namespace and the client's address as it sees it.
// *Loader implements it.
type RecordLookup interface {
	Lookup(netns uint64, peer netip.AddrPort) (Record, error)
}
