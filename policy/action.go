package policy

import (
	"fmt"
	"path"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
	"gopkg.in/yaml.v3"
)

// What a rule decides: a request (the default) or one tool call an answer
// tells the client to make.
const (
	OnRequest = "request"
	OnAction  = "action"
)

// Act is one tool call (a tool_use block of an answer) as action rules see
// it: `action.tool`, `action.id`, `action.type` and `action.input`, the
// block's input object (`action.input.command`, `action.input.file_path`).
type Act struct {
	ID    string         `json:"id"`
	Type  string         `json:"type"`
	Tool  string         `json:"tool"`
	Input map[string]any `json:"input"`
}

// actionFields are what `action.` may select; `action` is a CEL map (its
// input has no fixed shape), so a typo is caught here rather than at run time.
var actionFields = map[string]bool{"id": true, "type": true, "tool": true, "input": true}

// requestOnlyKeys are rule keys that mean nothing for a tool call.
var requestOnlyKeys = []string{"credential", "max_tokens", "models", "rate_limit", "budget", "mask", "record"}

func validateActionRule(n *yaml.Node, add func(key, format string, args ...any)) {
	for _, k := range requestOnlyKeys {
		if lookup(n, k) != nil {
			add(k, "%s applies to requests, not to rules with on: action", k)
		}
	}
}

// newActionEnv is the request environment plus `action` and within().
func newActionEnv() (*cel.Env, error) {
	env, err := newEnv()
	if err != nil {
		return nil, err
	}
	return env.Extend(ext.Strings(), cel.Variable("action", cel.MapType(cel.StringType, cel.DynType)),
		cel.Function("within", cel.Overload("within_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.BoolType,
			cel.BinaryBinding(func(p, dir ref.Val) ref.Val {
				return types.Bool(within(fmt.Sprint(p.Value()), fmt.Sprint(dir.Value())))
			}))))
}

// within reports whether path names dir or something under it, lexically
// (after cleaning, so /w/../etc is not under /w). A relative path or an
// unknown dir ("") is never within: a rule that keeps writes inside the
// working tree refuses what it cannot place. Symbolic links are not resolved.
func within(p, dir string) bool {
	if !path.IsAbs(p) || !path.IsAbs(dir) {
		return false
	}
	p, dir = path.Clean(p), path.Clean(dir)
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// unknownActionField finds an `action.<field>` selection that no tool call has.
func unknownActionField(a *cel.Ast) string {
	return selected(a, "action", func(f string) bool { return !actionFields[f] })
}

// HasActionRules reports whether any rule decides tool calls: without one,
// the gateway never holds a tool-use block.
func (e *Engine) HasActionRules() bool { return len(e.actionRules) > 0 }

// DecideAction decides one tool call of the answer to the request in: the
// first action rule whose condition holds, else allow. A rule that fails to
// evaluate (a field the input lacks, a value of the wrong type) denies.
func (e *Engine) DecideAction(in *Input, a *Act) Decision {
	now := in.Time
	if now.IsZero() {
		now = e.now()
	}
	act := newActivation(in, now, e.findings(in.Findings))
	act.action = map[string]any{"id": a.ID, "type": a.Type, "tool": a.Tool, "input": orEmpty(a.Input)}
	for _, r := range e.actionRules {
		out, _, err := r.cond.prg.Eval(act)
		if err != nil {
			return actionDenied(r, fmt.Sprintf("its condition could not be evaluated on this call (%v)", err), DenyError)
		}
		if isTrue(out) {
			return actionDecision(r)
		}
	}
	return Decision{Action: Allow, Record: RecordFull}
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func actionDecision(r *rule) Decision {
	s := &r.spec
	if s.Action == Deny {
		return actionDenied(r, orDefault(cmpOr(s.Reason, s.Description)), DenyPolicy)
	}
	return Decision{Action: s.Action, Rule: s.ID, Reason: cmpOr(s.Reason, s.Description), Record: RecordFull}
}

// actionDenied is a refused tool call; the message is for the agent and the
// person reading its transcript.
func actionDenied(r *rule, why string, kind DenyKind) Decision {
	d := Decision{Action: Deny, Rule: r.spec.ID, Reason: cmpOr(r.spec.Reason, r.spec.Description), Record: RecordFull}
	return deny(d, kind, fmt.Sprintf("Airlock policy rule %q refused this tool call: %s. It was not run; "+
		"do not retry it. If it is needed, ask the administrator of this machine.", r.spec.ID, strings.TrimRight(why, ".")))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
