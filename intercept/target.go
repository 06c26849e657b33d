package intercept

import (
	"net/netip"
	"slices"
)

// ExpandTargets crosses prefixes with ports into the kernel's target set,
// deduplicated and sorted (a stable order makes updates easy to diff).
func ExpandTargets(prefixes []netip.Prefix, ports []uint16) []Target {
	var out []Target
	for _, p := range prefixes {
		for _, port := range ports {
			out = append(out, Target{Prefix: p.Masked(), Port: port})
		}
	}
	slices.SortFunc(out, compareTargets)
	return slices.Compact(out)
}

func compareTargets(a, b Target) int {
	if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
		return c
	}
	if a.Prefix.Bits() != b.Prefix.Bits() {
		return a.Prefix.Bits() - b.Prefix.Bits()
	}
	return int(a.Port) - int(b.Port)
}

// htons converts between host and network byte order on the little-endian
// hosts the committed objects are built for.
func htons(p uint16) uint16 { return p<<8 | p>>8 }
