package gateway

import (
	"context"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/apierror"
)

// finishEarly completes the record of a request answered by the gateway itself.
func (g *Gateway) finishEarly(ex *exchange, decision string, status int, typ, msg string) {
	ex.rec.Decision, ex.rec.Status = decision, status
	if ex.rec.Reason == "" {
		ex.rec.Reason = msg
	}
	if ex.rc != nil {
		ex.rc.Status = status
		ex.rc.ContentType = "application/json"
		ex.rc.Events = append(ex.rc.Events, eventAt(ex, apierror.Marshal(typ, msg, ex.rec.RequestID)))
	}
	g.finish(ex)
}

// finish charges tokens and writes the audit record, once. It runs before the
// last bytes of the response are released; the error (already logged) tells
// a fail-closed caller to withhold them.
func (g *Gateway) finish(ex *exchange) error {
	if ex.finished {
		return nil
	}
	ex.finished = true
	ex.rec.Duration = time.Since(ex.start)
	if ex.decision.Action == "allow" || ex.decision.Action == "require_approval" {
		ex.engine.Consume(ex.decision, &ex.in.Caller, tokens(ex))
	}
	if g.cfg.Auditor == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := g.cfg.Auditor.Write(ctx, &ex.rec, ex.rc)
	if err != nil {
		g.log.Error("AUDIT WRITE FAILED", zap.String("request_id", ex.rec.RequestID), zap.Error(err))
		if g.cfg.AuditFailOpen {
			return nil
		}
	}
	return err
}

func tokens(ex *exchange) int64 {
	r := &ex.rec
	return r.InputTokens + r.OutputTokens + r.CacheReadTokens + r.CacheWriteTokens
}

// auditFailedBody replaces a response whose audit record could not be written.
func auditFailedBody(ex *exchange) []byte {
	return apierror.Marshal(apierror.API, "Airlock could not write the audit record for this response, so it was "+
		"withheld; tell the administrator of this machine.", ex.rec.RequestID)
}

const statusAuditFailed = http.StatusServiceUnavailable
