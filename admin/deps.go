package admin

import (
	"context"
	"io"
	"time"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/policy/approval"
)

// StatusFunc reports the daemon's status.
type StatusFunc func(ctx context.Context) (Status, error)

// Approvals is the part of *approval.Broker the API drives.
type Approvals interface {
	List() []approval.Pending
	Get(id string) (approval.Pending, error)
	Approve(id, approver, reason string, window time.Duration) error
	Deny(id, approver, reason string) error
}

// AuditReader is the read side of *audit.Store.
type AuditReader interface {
	List(ctx context.Context, f audit.Filter) ([]audit.Record, error)
	Export(ctx context.Context, f audit.Filter, w io.Writer) error
	Get(ctx context.Context, id int64) (audit.Record, error)
	Recording(ctx context.Context, recordID int64) (*audit.Recording, error)
	Verify(ctx context.Context) (audit.VerifyReport, error)
	Sessions(ctx context.Context, f audit.SessionFilter) ([]audit.Session, error)
	Session(ctx context.Context, id string) (audit.SessionDetail, error)
}

var (
	_ Approvals   = (*approval.Broker)(nil)
	_ AuditReader = (*audit.Store)(nil)
)

// Deps are what the API serves; nil members answer 503.
type Deps struct {
	Status    StatusFunc
	Approvals Approvals
	Audit     AuditReader
	Metrics   *Metrics // nil: a fresh, empty registry
	Console   ConsoleLinks
}

// ConsoleLinks mints the web console's one-time sign-in links.
type ConsoleLinks interface {
	MintLink(who string) string
}

// ConsoleLink answers POST /v1/console/link.
type ConsoleLink struct {
	URL string `json:"url"`
}

// Decision is the body of POST /v1/approvals/{id}/approve|deny.
type Decision struct {
	Reason string `json:"reason,omitempty"`
	For    string `json:"for,omitempty"` // a Go duration ("30m"): open a just-in-time window
}

// DecisionResult answers a decision: who decided, as the server saw it.
type DecisionResult struct {
	ID       string    `json:"id"`
	Approved bool      `json:"approved"`
	Approver string    `json:"approver"`
	Until    time.Time `json:"until,omitzero"`
}

// errorBody is every error answer: {"error": "..."}.
type errorBody struct {
	Error string `json:"error"`
}
