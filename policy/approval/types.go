// Package approval holds requests that policy marks high-risk until an operator
// approves or denies them, or they expire.
package approval

import (
	"time"

	"github.com/airlock-dev/airlock/caller"
)

// Request is what a held request is bound to: an approval given for it answers
// only the same caller, rule and (masked) request digest.
type Request struct {
	Caller  caller.Process
	Rule    string
	Reason  string // the rule's human reason
	Digest  string // hex SHA-256 of the masked request body
	Method  string
	Path    string
	Model   string
	Summary string // a short, masked excerpt for the operator
}

// Outcome is how a hold ended.
type Outcome struct {
	ID       string
	Approved bool
	Approver string // who decided: "uid:0(root)", "window:<id>", or "timeout"
	Reason   string
	TimedOut bool
	Until    time.Time // set when the approval came from a just-in-time window
}
