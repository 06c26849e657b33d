package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/airlock-dev/airlock/apierror"
	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/policy"
	"github.com/airlock-dev/airlock/policy/approval"
	"github.com/airlock-dev/airlock/policy/credential"
	"github.com/airlock-dev/airlock/policy/mask"
	"go.uber.org/zap"
)

// decide applies the policy (and an approval hold); false means the request
// has been answered.
func (g *Gateway) decide(w http.ResponseWriter, r *http.Request, ex *exchange) bool {
	if ex.maskErr != nil {
		g.log.Warn("masking the request failed", zap.String("request_id", ex.rec.RequestID), zap.Error(ex.maskErr))
		status, typ := http.StatusBadRequest, apierror.InvalidRequest
		if errors.Is(ex.maskErr, mask.ErrBudgetExceeded) {
			status, typ = http.StatusRequestEntityTooLarge, apierror.RequestTooLarge
		}
		g.answer(w, ex, "error", status, typ, "Airlock could not mask this request body, so it was not sent: "+ex.maskErr.Error())
		return false
	}
	d := ex.engine.Decide(&ex.in)
	ex.decision = d
	ex.rec.Rule, ex.rec.Reason, ex.rec.Credential = d.Rule, d.Reason, d.Credential
	if g.unexaminable(ex) {
		g.answer(w, ex, "deny", http.StatusBadRequest, apierror.InvalidRequest, "Airlock masks the bodies of "+
			"requests like this one, but this body is not valid JSON ("+ex.parseErr.Error()+"), so it was not sent; send valid JSON.")
		return false
	}
	g.applyMaskSelection(ex)
	if d.Record == policy.RecordFull {
		ex.rc = &audit.Recording{RequestBody: ex.body}
	}
	switch d.Action {
	case policy.Deny:
		g.denied(w, ex, d.Denial)
		return false
	case policy.RequireApproval:
		if !g.approve(w, r, ex) {
			return false
		}
	}
	return g.credential(w, r, ex)
}

// applyMaskSelection re-masks the request when the matched rule selects
// detectors other than the first pass's full set, or none.
func (g *Gateway) applyMaskSelection(ex *exchange) {
	m := ex.decision.Mask
	if g.cfg.Masker == nil {
		return
	}
	ex.maskResp = m.Response == nil || len(m.Response) > 0
	if m.Request == nil || !ex.jsonBody {
		return
	}
	if len(m.Request) == 0 {
		ex.body, ex.rec.Masked = ex.orig, nil
		return
	}
	masked, res, err := g.cfg.Masker.For(ex.scope).Request(ex.orig, mask.Selection(m.Request))
	if err == nil {
		ex.body, ex.rec.Masked, ex.rec.MaskIncomplete = masked, res.Counts, res.Incomplete
	}
}

// credential fetches the managed credential the decision names.
func (g *Gateway) credential(w http.ResponseWriter, r *http.Request, ex *exchange) bool {
	c, err := g.cfg.Credentials.Get(r.Context(), ex.decision.Credential)
	if err != nil {
		g.log.Error("managed credential unavailable", zap.String("request_id", ex.rec.RequestID),
			zap.String("credential", ex.decision.Credential), zap.Error(err))
		msg := "Airlock could not obtain the managed API credential for this request; tell the administrator of this machine."
		if !errors.Is(err, credential.ErrUnavailable) {
			msg = "Airlock could not obtain the managed API credential: " + err.Error()
		}
		g.answer(w, ex, "error", http.StatusServiceUnavailable, apierror.API, msg)
		return false
	}
	ex.cred = c
	ex.rec.Credential = c.Name
	return true
}

// denied answers a policy denial in the API's own error shape.
func (g *Gateway) denied(w http.ResponseWriter, ex *exchange, d *policy.Denial) {
	switch d.Kind {
	case policy.DenyLimit:
		g.finishEarly(ex, "deny", http.StatusTooManyRequests, apierror.RateLimit, d.Message)
		apierror.WriteRetryAfter(w, d.RetryAfter, d.Message, ex.rec.RequestID)
	case policy.DenyInvalid:
		g.answer(w, ex, "deny", http.StatusBadRequest, apierror.InvalidRequest, d.Message)
	default:
		g.answer(w, ex, "deny", http.StatusForbidden, apierror.Permission, d.Message)
	}
}

// approve holds the request for an operator; false means it was answered.
func (g *Gateway) approve(w http.ResponseWriter, r *http.Request, ex *exchange) bool {
	rule := ex.decision.Rule
	if g.cfg.Approver == nil {
		g.answer(w, ex, "deny", http.StatusForbidden, apierror.Permission, fmt.Sprintf(
			"Airlock policy rule %q requires an operator's approval for this request, but approvals are not enabled "+
				"on this machine; ask its administrator to enable them or to change the rule.", rule))
		return false
	}
	out, err := g.cfg.Approver.Await(r.Context(), g.approvalRequest(ex))
	ex.rec.ApprovalID, ex.rec.Approver, ex.rec.ApprovalReason = out.ID, out.Approver, out.Reason
	if err == nil && out.Approved {
		return true
	}
	decision, msg := "approval_denied", fmt.Sprintf("Airlock policy rule %q held this request for approval and it was denied", rule)
	if out.TimedOut || err != nil {
		decision, msg = "approval_timeout", fmt.Sprintf("Airlock policy rule %q held this request for approval and nobody approved it in time", rule)
	}
	if out.Reason != "" {
		msg += " (" + out.Reason + ")"
	}
	msg += fmt.Sprintf(". To proceed, ask an operator to approve it (airlock approvals approve %s, or open an approval window for this program) and send the request again.", orPending(out.ID))
	g.answer(w, ex, decision, http.StatusForbidden, apierror.Permission, msg)
	return false
}

func orPending(id string) string {
	if id == "" {
		return "<id>"
	}
	return id
}

func (g *Gateway) approvalRequest(ex *exchange) approval.Request {
	sum := sha256.Sum256(ex.body)
	q := &ex.in.Request
	return approval.Request{Caller: ex.in.Caller, Rule: ex.decision.Rule, Reason: ex.decision.Reason,
		Digest: hex.EncodeToString(sum[:]), Method: q.Method, Path: q.Path, Model: q.Model, Summary: heldExcerpt(ex.body, ex.rec.Masked)}
}

// answer writes an API-shaped error and its audit record.
func (g *Gateway) answer(w http.ResponseWriter, ex *exchange, decision string, status int, typ, msg string) {
	g.finishEarly(ex, decision, status, typ, msg)
	apierror.Write(w, status, typ, msg, ex.rec.RequestID)
}
