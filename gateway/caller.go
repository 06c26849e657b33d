package gateway

import (
	"encoding/binary"
	"slices"

	"github.com/airlock-dev/airlock/caller"
	"github.com/airlock-dev/airlock/policy/mask"
)

// newArgMasker returns the masker that cleans callers' command lines: the
// configured one, or (masking off) one with the built-in credential
// detectors, because a command line is where a leaked key is most often
// found (curl -H "x-api-key: …") and it must not reach the audit trail.
func newArgMasker(configured *mask.Masker, key []byte) (*mask.Masker, error) {
	if configured != nil {
		return configured, nil
	}
	return mask.New(mask.Config{Key: key, CacheEntries: -1})
}

// cacheScope is the caller's scope in the maskers' caches (see mask.Scope):
// its user, cgroup and network namespace. Processes that share all three
// (one user in one container or service) share the cache, so timing tells
// one of them only what another of the same identity sent.
func cacheScope(p caller.Process) mask.Scope {
	var b [20]byte
	binary.LittleEndian.PutUint32(b[0:], p.UID)
	binary.LittleEndian.PutUint64(b[4:], p.CgroupID)
	binary.LittleEndian.PutUint64(b[12:], p.Netns)
	return mask.Scope(b[:])
}

// withMaskedCmdline returns p with credentials in its arguments replaced by
// placeholders; p itself (shared by every request on the connection) is
// left alone.
func (ex *exchange) withMaskedCmdline(p caller.Process) caller.Process {
	var out []string
	for i, arg := range p.Cmdline {
		masked, res := ex.args.Text(arg, nil)
		if len(res.Counts) == 0 {
			continue
		}
		if out == nil {
			out = slices.Clone(p.Cmdline)
		}
		out[i] = masked
	}
	if out != nil {
		p.Cmdline = out
	}
	return p
}
