package policy

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"gopkg.in/yaml.v3"

	"github.com/airlock-dev/airlock/caller"
)

// Options configure Compile and Load.
type Options struct {
	State *State           // limit state to carry over from the previous engine; nil = fresh
	Now   func() time.Time // clock for windows and an Input without Time; nil = time.Now
	// Detectors names the configured custom and literal detectors, so that
	// findings["name"] reads 0 rather than failing when nothing matched. The
	// built-in detectors are always known.
	Detectors []string
}

// Engine is a compiled policy. It is safe for concurrent use, and
// immutable but for the limit state and the memo of matches (memo.go);
// reloading builds a new Engine and swaps it in.
type Engine struct {
	rules       []*rule // on: request
	actionRules []*rule // on: action
	def         *rule
	state       *State
	now         func() time.Time
	zero        map[string]int // every known detector at 0: the findings of a clean request
	memo        *memo          // the request rules' matches by what they read; nil when they read the time
}

type rule struct {
	spec   ruleSpec
	cond   *compiled // nil for the default
	limits *limitSet
}

// Load reads and compiles the policy at path.
func Load(path string, opts Options) (*Engine, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	e, err := Compile(src, opts)
	if err != nil {
		return nil, fmt.Errorf("policy %s:\n%w", path, err)
	}
	return e, nil
}

// Compile parses and compiles a policy. The error, when not nil, is Problems:
// every problem with its line and column.
func Compile(src []byte, opts Options) (*Engine, error) {
	e := &Engine{state: opts.State, now: opts.Now, zero: zeroFindings(opts.Detectors)}
	if e.state == nil {
		e.state = NewState()
	}
	if e.now == nil {
		e.now = time.Now
	}
	if ps := e.build(src); len(ps) > 0 {
		return nil, ps
	}
	asts := make([]*cel.Ast, len(e.rules))
	for i, r := range e.rules {
		asts[i] = r.cond.ast
	}
	e.memo = newMemo(asts)
	return e, nil
}

func (e *Engine) build(src []byte) Problems {
	root, err := document(src)
	if err != nil {
		return Problems{yamlProblem(err)}
	}
	envs, err := newEnvs()
	if err != nil {
		return Problems{{1, 1, "building the CEL environment: " + err.Error()}}
	}
	lines := strings.Split(string(src), "\n")
	ps := append(e.buildRules(envs, root, lines), e.buildDefault(root)...)
	slices.SortStableFunc(ps, func(a, b Problem) int { return cmp.Or(a.Line-b.Line, a.Column-b.Column) })
	return ps
}

// envs are the CEL environments of request rules and of action rules.
type envs struct{ request, action *cel.Env }

func newEnvs() (envs, error) {
	req, err := newEnv()
	if err != nil {
		return envs{}, err
	}
	act, err := newActionEnv()
	return envs{req, act}, err
}

func (e *Engine) buildRules(envs envs, root *yaml.Node, lines []string) []Problem {
	rn := lookup(root, "rules")
	if rn == nil {
		return nil
	}
	if rn.Kind != yaml.SequenceNode {
		return []Problem{{rn.Line, rn.Column, "rules: want a list"}}
	}
	var ps []Problem
	seen := map[string]bool{}
	for i, n := range rn.Content {
		r, rps := e.buildRule(envs, n, lines, i)
		ps = append(ps, rps...)
		if r != nil && seen[r.spec.ID] {
			ps = append(ps, Problem{n.Line, n.Column, fmt.Sprintf("rule %q: duplicate id", r.spec.ID)})
		}
		if r != nil {
			seen[r.spec.ID] = true
			e.add(r)
		}
	}
	return ps
}

func (e *Engine) add(r *rule) {
	if r.spec.On == OnAction {
		e.actionRules = append(e.actionRules, r)
	} else {
		e.rules = append(e.rules, r)
	}
}

func (e *Engine) buildRule(envs envs, n *yaml.Node, lines []string, i int) (*rule, []Problem) {
	r := &rule{}
	if err := n.Decode(&r.spec); err != nil {
		return nil, []Problem{decodeProblem(n, err)}
	}
	if r.spec.ID == "" {
		r.spec.ID = fmt.Sprintf("rule-%d", i+1)
	}
	ps := validateSpec(&r.spec, n)
	env := envs.request
	if r.spec.On == OnAction {
		env = envs.action
	}
	wn := lookup(n, "when")
	if wn == nil || strings.TrimSpace(wn.Value) == "" {
		ps = append(ps, Problem{n.Line, n.Column, fmt.Sprintf("rule %q: when is missing (use `when: \"true\"` to match everything)", r.spec.ID)})
	} else if c, cps := compileWhen(env, wn, lines); len(cps) > 0 {
		ps = append(ps, prefix(r.spec.ID, cps)...)
	} else {
		r.cond = c
	}
	r.limits = e.limitsFor(&r.spec)
	return r, ps
}

func (e *Engine) buildDefault(root *yaml.Node) []Problem {
	e.def = &rule{spec: ruleSpec{ID: "default", Action: Deny, Reason: "no policy rule matched this request"}}
	dn := lookup(root, "default")
	if dn == nil {
		return nil
	}
	if err := dn.Decode(&e.def.spec); err != nil {
		return []Problem{decodeProblem(dn, err)}
	}
	if e.def.spec.ID == "" {
		e.def.spec.ID = "default"
	}
	if w := lookup(dn, "when"); w != nil {
		return []Problem{{w.Line, w.Column, "default: takes no when (it answers every request no rule matched)"}}
	}
	if o := lookup(dn, "on"); o != nil {
		return []Problem{{o.Line, o.Column, "default: takes no on (it answers requests; a tool call no action rule matched is allowed)"}}
	}
	e.def.limits = e.limitsFor(&e.def.spec)
	return validateSpec(&e.def.spec, dn)
}

func (e *Engine) limitsFor(s *ruleSpec) *limitSet {
	if s.RateLimit == nil && s.Budget == nil {
		return nil
	}
	return &limitSet{rule: s.ID, rate: s.RateLimit, budget: s.Budget, state: e.state}
}

func decodeProblem(n *yaml.Node, err error) Problem {
	p := yamlProblem(err)
	if p.Line <= 1 {
		p.Line, p.Column = n.Line, n.Column
	}
	return p
}

func prefix(id string, ps []Problem) []Problem {
	for i := range ps {
		ps[i].Message = fmt.Sprintf("rule %q: %s", id, ps[i].Message)
	}
	return ps
}

// State returns the engine's limit state, to pass to the next Compile.
func (e *Engine) State() *State { return e.state }

// RequestDetectors returns every detector any rule masks requests with, for
// the first masking pass whose findings conditions can read.
func (e *Engine) RequestDetectors() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range append(e.rules[:len(e.rules):len(e.rules)], e.def) {
		if r.spec.Mask == nil {
			continue
		}
		for _, d := range r.spec.Mask.Request {
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	return out
}

// Consume charges a completed request's tokens to the limits of the rule
// that allowed it.
func (e *Engine) Consume(d Decision, p *caller.Process, tokens int64) {
	if d.limits != nil && tokens > 0 {
		d.limits.consume(p, tokens, e.now())
	}
}

// isTrue is the CEL result that makes a rule match.
func isTrue(v any) bool { return v == types.True }
