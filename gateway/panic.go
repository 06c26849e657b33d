package gateway

import (
	"fmt"
	"net/http"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/apierror"
)

const panicMessage = "Airlock failed while handling this request (an internal error, logged for the " +
	"administrator of this machine); it was not completed."

// onPanic turns a panic while serving one request into that request's 500
// and its audit record: one bad input must never take the daemon (and every
// captured program's access) down. net/http recovers a handler's panic
// itself, but by dropping the connection with no answer and no record.
func (g *Gateway) onPanic(w http.ResponseWriter, ex *exchange, p any) {
	if p == http.ErrAbortHandler {
		panic(p) // ReverseProxy's way to abort a broken response; net/http expects it
	}
	id := ""
	if ex != nil {
		id = ex.rec.RequestID
	}
	// The value may quote request data: mask credentials before logging it.
	text, _ := g.argMasker.Text(fmt.Sprint(p), nil)
	g.log.Error("PANIC serving a request: answered 500, the daemon goes on", zap.String("request_id", id),
		zap.String("panic", text), zap.Stack("stack"))
	switch {
	case ex == nil:
		apierror.Write(w, http.StatusInternalServerError, apierror.API, panicMessage, "")
	case ex.finished:
	case !ex.respAt.IsZero(): // the answer has begun: record it, then cut it off
		ex.rec.Decision, ex.rec.Reason = "error", "internal error while relaying the response"
		g.finish(ex)
		panic(http.ErrAbortHandler)
	default:
		ex.rec.Reason = "internal error: " + panicMessage
		g.answer(w, ex, "error", http.StatusInternalServerError, apierror.API, panicMessage)
	}
}
