package daemon

import (
	"context"
	"errors"
	"strings"

	"github.com/airlock-dev/airlock/policy"
)

// builtinPolicy applies when policy.file is empty: every request is allowed
// with the default managed credential (and still stripped, masked, audited).
const builtinPolicy = `
default:
  action: allow
  reason: "no policy file is configured (policy.file), so every request is allowed with the default credential"
`

// policySource is the policy in force: a file that SIGHUP reloads, or the
// built-in default.
type policySource struct {
	current *policy.Current // nil for the built-in policy
	fixed   *policy.Engine
	file    string
}

// Engine is passed to the gateway: each request reads the policy in force.
func (p *policySource) Engine() *policy.Engine {
	if p.current != nil {
		return p.current.Engine()
	}
	return p.fixed
}

// Reload re-reads the file; an invalid policy keeps the previous one.
func (p *policySource) Reload() error {
	if p.current == nil {
		return nil
	}
	return p.current.Reload()
}

func (d *Daemon) startPolicy(context.Context) error {
	file := d.cfg.Policy.PolicyPath()
	if file == "" {
		e, err := policy.Compile([]byte(builtinPolicy), policy.Options{})
		if err != nil {
			return fail("built-in policy", "report this bug", err)
		}
		d.parts.policy = &policySource{fixed: e}
		return nil
	}
	cur, err := policy.NewCurrent(file, d.log)
	if err != nil {
		return fail("policy "+file+" is invalid", "correct it (`airlock policy check "+file+"` lists every problem)", policyErr(err))
	}
	d.parts.policy = &policySource{current: cur, file: file}
	return nil
}

// policyErr keeps a policy error on one line: problems joined with "; ".
func policyErr(err error) error {
	var ps policy.Problems
	if errors.As(err, &ps) {
		parts := make([]string, len(ps))
		for i, p := range ps {
			parts[i] = "line " + p.String()
		}
		return errors.New(strings.Join(parts, "; "))
	}
	return errors.New(strings.ReplaceAll(err.Error(), "\n", " "))
}
