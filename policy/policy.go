// Package policy decides every intercepted Claude API request: an ordered list
// of rules whose conditions are CEL expressions over who is calling (caller),
// what is asked (request), what credential the application embedded
// (embedded), when (time) and what the masking detectors saw (findings). The
// first matching rule wins; a default answers the rest. Rules also carry caps
// (max_tokens ceiling, model allowlist), rate limits and daily token budgets
// per caller, masking selections and the recording mode.
//
// Caps deny rather than clamp: clamping would mean re-encoding the client's
// JSON (breaking byte-identical forwarding and prompt caching) and silently
// changing what a program asked for. A denial names the cap and the value to use.
package policy

import (
	"fmt"
	"time"
	_ "time/tzdata" // rules may name time zones; hosts and containers often lack zoneinfo

	"github.com/airlock-dev/airlock/caller"
)

// Action is what a rule does with a matching request.
type Action string

// Actions.
const (
	Allow           Action = "allow"
	Deny            Action = "deny"
	RequireApproval Action = "require_approval"
)

// RecordMode says how much of a request the audit keeps.
type RecordMode string

// Record modes.
const (
	RecordFull     RecordMode = "full"     // masked bodies and events
	RecordMetadata RecordMode = "metadata" // the audit record only
)

// Input is everything a decision may look at. Body fields (Model, MaxTokens,
// Stream, Tools) are meaningful only when BodyParsed is true; a request
// without a body, or with a body that is not JSON by its content type, has
// BodyParsed true and those fields zero.
type Input struct {
	Caller   caller.Process
	Request  Request
	Embedded string // credential class the client sent: api_key | oauth_token | admin_key | other | none
	Time     time.Time
	Findings map[string]int // detector -> count from a first masking pass
}

// Request is the part of an HTTP request rules can match on.
type Request struct {
	Method     string   `json:"method"`
	Path       string   `json:"path"`
	Model      string   `json:"model"`
	MaxTokens  int64    `json:"max_tokens"`
	Stream     bool     `json:"stream"`
	Tools      []string `json:"tools"`
	Betas      []string `json:"betas"`
	BodySize   int64    `json:"body_size"`
	BodyParsed bool     `json:"body_parsed"` // false: the body should be JSON but is not; rules reading body fields refuse it
}

// Mask is a rule's masking selection: detector names per direction, and what
// to do when the request pass finds something.
type Mask struct {
	Request  []string `json:"request,omitempty" yaml:"request"`
	Response []string `json:"response,omitempty" yaml:"response"`
	OnMatch  string   `json:"on_match,omitempty" yaml:"on_match"` // mask | deny | require_approval
}

// Decision is the outcome for one request: the rule that decided and why.
type Decision struct {
	Action     Action        `json:"action"`
	Rule       string        `json:"rule"`
	Reason     string        `json:"reason"`
	Credential string        `json:"credential,omitempty"` // managed credential to use ("" = default)
	Record     RecordMode    `json:"record"`
	Mask       Mask          `json:"mask"`
	Denial     *Denial       `json:"denial,omitempty"` // set when Action is Deny
	RetryAfter time.Duration `json:"retry_after,omitempty"`

	limits *limitSet // the matched rule's limits, for Consume
}

// Err returns the decision's denial as an error, or nil when it is not a denial.
func (d Decision) Err() error {
	if d.Denial == nil {
		return nil
	}
	return d.Denial
}

// DenyKind tells the gateway which API error answers a denial.
type DenyKind string

// Kinds of denial.
const (
	DenyPolicy  DenyKind = "policy"  // 403 permission_error
	DenyCap     DenyKind = "cap"     // 403 permission_error
	DenyLimit   DenyKind = "limit"   // 429 rate_limit_error with retry-after
	DenyInvalid DenyKind = "invalid" // 400 invalid_request_error: a rule needs a field the body lacks
	DenyError   DenyKind = "error"   // 403: a rule failed to evaluate; fail closed
)

// Denial is the typed error for a denied request. Message is written for the
// person running the program: what happened and what to do.
type Denial struct {
	Kind       DenyKind      `json:"kind"`
	Rule       string        `json:"rule"`
	Reason     string        `json:"reason"`
	Message    string        `json:"message"`
	RetryAfter time.Duration `json:"retry_after,omitempty"`
}

func (d *Denial) Error() string {
	return fmt.Sprintf("policy rule %q denied the request (%s): %s", d.Rule, d.Kind, d.Reason)
}
