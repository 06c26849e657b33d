package policy

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong with a policy file, at a 1-based line and column.
type Problem struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

func (p Problem) String() string { return fmt.Sprintf("%d:%d: %s", p.Line, p.Column, p.Message) }

// Problems is the error Compile returns: every problem found, in file order.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, "\n")
}

// ruleSpec is a rule as written in YAML.
type ruleSpec struct {
	ID          string      `yaml:"id"`
	On          string      `yaml:"on"` // request (default) | action
	Description string      `yaml:"description"`
	When        string      `yaml:"when"`
	Action      Action      `yaml:"action"`
	Credential  string      `yaml:"credential"`
	Reason      string      `yaml:"reason"`
	MaxTokens   int64       `yaml:"max_tokens"`
	Models      []string    `yaml:"models"`
	RateLimit   *rateSpec   `yaml:"rate_limit"`
	Budget      *budgetSpec `yaml:"budget"`
	Mask        *Mask       `yaml:"mask"`
	Record      RecordMode  `yaml:"record"`
}

type rateSpec struct {
	Requests int64         `yaml:"requests"`
	Tokens   int64         `yaml:"tokens"`
	Window   time.Duration `yaml:"window"`
	Per      string        `yaml:"per"`
}

type budgetSpec struct {
	DailyTokens int64  `yaml:"daily_tokens"`
	Per         string `yaml:"per"`
}

var ruleKeys = map[string]bool{"id": true, "on": true, "description": true, "when": true, "action": true, "credential": true,
	"reason": true, "max_tokens": true, "models": true, "rate_limit": true, "budget": true, "mask": true, "record": true}

// document finds the policy mapping: the file itself, or its `policy:` key
// when the policy sits inside the daemon's configuration.
func document(src []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("a policy is a mapping with `rules:` and `default:`")
	}
	root := doc.Content[0]
	if p := lookup(root, "policy"); p != nil && p.Kind == yaml.MappingNode {
		return p, nil
	}
	return root, nil
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// yamlProblem turns a yaml.v3 error ("yaml: line 3: …") into a Problem.
func yamlProblem(err error) Problem {
	msg := err.Error()
	var line int
	if _, e := fmt.Sscanf(msg, "yaml: line %d:", &line); e == nil {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
	}
	return Problem{Line: max(line, 1), Column: 1, Message: msg}
}

// validateSpec checks the non-CEL parts of a rule.
func validateSpec(r *ruleSpec, n *yaml.Node) []Problem {
	var ps []Problem
	add := func(key, format string, args ...any) {
		at := n
		if v := lookup(n, key); v != nil {
			at = v
		}
		ps = append(ps, Problem{at.Line, at.Column, fmt.Sprintf("rule %q: ", r.ID) + fmt.Sprintf(format, args...)})
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !ruleKeys[k.Value] {
			ps = append(ps, Problem{k.Line, k.Column, fmt.Sprintf("rule %q: unknown key %q", r.ID, k.Value)})
		}
	}
	switch r.Action {
	case Allow, Deny, RequireApproval:
	default:
		add("action", "action %q: want allow, deny or require_approval", r.Action)
	}
	switch r.On {
	case "", OnRequest:
	case OnAction:
		validateActionRule(n, add)
	default:
		add("on", "on %q: want request or action", r.On)
	}
	switch r.Record {
	case "", RecordFull, RecordMetadata:
	default:
		add("record", "record %q: want full or metadata", r.Record)
	}
	for _, m := range r.Models {
		if _, err := path.Match(m, ""); err != nil {
			add("models", "model pattern %q: %v", m, err)
		}
	}
	validateLimits(r, add)
	return ps
}

func validateLimits(r *ruleSpec, add func(key, format string, args ...any)) {
	if r.MaxTokens < 0 {
		add("max_tokens", "max_tokens must be positive")
	}
	if rl := r.RateLimit; rl != nil {
		if rl.Requests <= 0 && rl.Tokens <= 0 {
			add("rate_limit", "rate_limit needs requests and/or tokens")
		}
		if rl.Window <= 0 {
			add("rate_limit", "rate_limit needs a window, e.g. 1m")
		}
		if !validPer(rl.Per) {
			add("rate_limit", "per %q: want caller, uid, exe, unit, container or global", rl.Per)
		}
	}
	if b := r.Budget; b != nil && (b.DailyTokens <= 0 || !validPer(b.Per)) {
		add("budget", "budget needs daily_tokens > 0 and per one of caller, uid, exe, unit, container, global")
	}
	if m := r.Mask; m != nil {
		switch Action(m.OnMatch) {
		case "", "mask", Deny, RequireApproval:
		default:
			add("mask", "on_match %q: want mask, deny or require_approval", m.OnMatch)
		}
	}
}

func validPer(p string) bool {
	switch p {
	case "", "caller", "uid", "exe", "unit", "container", "global":
		return true
	}
	return false
}
