package gateway

import (
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

// withMaskedCmdline returns p with credentials in its arguments replaced by
// placeholders; p itself (shared by every request on the connection) is
// left alone.
func (g *Gateway) withMaskedCmdline(p caller.Process) caller.Process {
	var out []string
	for i, arg := range p.Cmdline {
		masked, res := g.argMasker.Text(arg, nil)
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
