package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// transformer turns upstream response bytes into what the client receives
// (passTransform, jsonTransform, sseTransform). It holds back what must wait
// for the audit record: a possible start of the managed key, the whole JSON
// body, the terminal SSE events.
type transformer interface {
	// write takes the next upstream bytes and appends to out what the client
	// may have now. errCut means a bound was exceeded: the upstream is read
	// no further and end releases the transformer's own ending.
	write(out, p []byte) ([]byte, error)
	// end runs once, when the upstream ended or was cut, before the audit:
	// it appends everything still held to out.
	end(out []byte) []byte
	// auditFailed replaces what end released when the record could not be
	// written (fail closed): an ending of its own, or an error that cuts the body.
	auditFailed() ([]byte, error)
}

// waiter is a transformer that may wait on something other than the
// upstream (an approval of a tool call), sending what it has meanwhile;
// the upstream is not read while it waits.
type waiter interface {
	waiting() bool
	wait(out []byte) []byte
}

// resumer is a transformer that may stop part way through what write gave
// it, so that what it released so far reaches the client first; while
// pending, it holds complete input that resume carries on with, before the
// upstream is read again.
type resumer interface {
	pending() bool
	resume(out []byte) ([]byte, error)
}

// errCut ends a response whose upstream exceeded a bound.
var errCut = errors.New("response cut: bound exceeded")

var (
	errAuditFailed = errors.New("audit record could not be written; response withheld")
	errPanicked    = errors.New("response pipeline failed")
)

// respBody is the one body wrapper of every relayed response: it pulls
// upstream bytes through a transformer, finishes the exchange exactly once
// (on the upstream's end, a cut, an upstream error, a panic, or the client
// going away) and releases what the transformer held only after the audit.
type respBody struct {
	ex  *exchange
	src io.ReadCloser
	t   transformer
	buf []byte // read buffer from the pool
	out []byte // ready for the client, from off
	off int
	err error // returned once out is drained; io.EOF after a clean end

	srcDone bool // the upstream ended, or was cut
	sent    bool // bytes have gone to the client
	yielded bool
}

// yield is yieldCPU, replaced in tests.
var yield = yieldCPU

func (g *Gateway) newRespBody(ex *exchange, src io.ReadCloser, t transformer) *respBody {
	return &respBody{ex: ex, src: src, t: t, buf: g.bufs.Get()}
}

func (b *respBody) Read(p []byte) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, b.panicked(r)
		}
	}()
	for b.off == len(b.out) {
		if b.err != nil {
			return 0, b.err
		}
		b.out, b.off = b.out[:0], 0
		if b.err = b.step(); b.err != nil && b.err != io.EOF {
			b.brokeOff()
		}
	}
	n = copy(p, b.out[b.off:])
	b.off += n
	b.sent = true
	return n, nil
}

// brokeOff finishes a response whose upstream read failed: the client gets
// a truncated body, and the record says why.
func (b *respBody) brokeOff() {
	if errors.Is(b.err, context.Canceled) {
		b.ex.rec.Reason = "the client went away before the end of the response"
	} else {
		b.ex.rec.Reason = "upstream response broke off: " + scrubString(b.err.Error(), b.ex.secret())
	}
	b.ex.g.finish(b.ex)
}

// step reads one upstream chunk through the transformer (or lets it carry
// on with the chunk it stopped part way through). Once the upstream
// ended or the transformer cut it, and what came before went out, the next
// step ends the response.
func (b *respBody) step() error {
	b.yieldOnce()
	if w, ok := b.t.(waiter); ok && w.waiting() {
		b.out = w.wait(b.out)
		return nil
	}
	if r, ok := b.t.(resumer); ok && r.pending() {
		b.took(r.resume(b.out))
		return nil
	}
	if b.srcDone {
		return b.end()
	}
	n, err := b.src.Read(b.buf)
	if n > 0 && b.took(b.t.write(b.out, b.buf[:n])) {
		return nil // cut: the upstream is read no further
	}
	if err == io.EOF {
		b.srcDone = true
		return nil
	}
	return err
}

// yieldOnce runs when the first bytes of a response have gone to the
// client (the proxy wrote and flushed them before asking for more) and
// gives up the CPU once, before the rest of the upstream's read is
// transformed. On a busy host the client woken by those bytes otherwise
// waited for this thread to mask the dozen events that arrived with the
// first. With four processes on two cores, yielding cut Airlock's time to
// the first event by about 0.13 ms alone and 0.27 ms with four streams,
// measured against Go's bare ReverseProxy in eight alternating pairs
// (BENCHMARKS.md, "An eleventh look"). It costs one system call a response.
func (b *respBody) yieldOnce() {
	if b.sent && !b.yielded {
		b.yielded = true
		yield()
	}
}

// took keeps what the transformer released and reports whether it cut the
// response, which ends the upstream.
func (b *respBody) took(out []byte, err error) bool {
	b.out = out
	if err != nil {
		b.srcDone = true
	}
	return err != nil
}

// end writes the audit record, then queues what the transformer held.
func (b *respBody) end() error {
	final := b.t.end(nil)
	if b.ex.g.finish(b.ex) != nil {
		var err error
		if final, err = b.t.auditFailed(); err != nil {
			return err
		}
	}
	if len(b.out) == 0 {
		b.out = final // a JSON body: no copy
	} else {
		b.out = append(b.out, final...)
	}
	return io.EOF
}

// prefetch runs the whole body through the transformer before the headers
// go out (JSON: the status and length depend on it). An upstream error is
// returned unfinished, for the proxy's error handler to answer and audit.
func (b *respBody) prefetch() error {
	for b.err == nil {
		b.err = b.step()
	}
	if b.err != io.EOF {
		b.release()
		return b.err
	}
	return nil
}

// panicked turns a panic in a transformer into this response's end: logged,
// audited, and the body cut; the daemon carries on.
func (b *respBody) panicked(r any) error {
	b.ex.g.log.Error("response pipeline panicked", zap.String("request_id", b.ex.rec.RequestID),
		zap.String("panic", scrubString(fmt.Sprint(r), b.ex.secret())), zap.Stack("stack"))
	b.ex.rec.Reason = "airlock: internal error in the response pipeline; response cut"
	b.ex.g.finish(b.ex)
	b.err = errPanicked
	return b.err
}

// Close finishes the exchange if the client went away before the end.
func (b *respBody) Close() error {
	b.ex.g.finish(b.ex)
	b.release()
	return b.src.Close()
}

func (b *respBody) release() {
	if b.buf != nil {
		b.ex.g.bufs.Put(b.buf)
		b.buf = nil
	}
}

// modifyResponse notes the upstream status and wraps the body in the
// pipeline that masks, records and audits it.
func (g *Gateway) modifyResponse(resp *http.Response) error {
	ex := exchangeFrom(resp.Request.Context())
	ex.respAt = time.Now()
	ex.rec.TTFB = ex.respAt.Sub(ex.start)
	ex.rec.Status = resp.StatusCode
	ex.rec.UpstreamID = resp.Header.Get("Request-Id")
	scrubHeader(resp.Header, ex.secret())
	ct := resp.Header.Get("Content-Type")
	if ex.rc != nil {
		ex.rc.Status, ex.rc.ContentType = resp.StatusCode, ct
	}
	enc, mt := encodingOf(resp.Header), mediaType(ct)
	if why := unreadable(enc, mt); why != "" && ex.createsMessage() && resp.StatusCode < 300 {
		return &unreadableError{why}
	}
	switch {
	case enc == "" && mt == "text/event-stream":
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		resp.Body = g.newRespBody(ex, resp.Body, g.newSSETransform(resp.Request.Context(), ex))
	case enc == "" && mt == "application/json" && (ex.messages() || resp.StatusCode >= 400):
		// Messages answers and API errors are small: mask and audit them
		// whole (one declared over the bound is cut at the bound).
		return g.bufferJSON(ex, resp)
	default:
		resp.Body = g.newRespBody(ex, resp.Body, newPassTransform(ex))
	}
	return nil
}

// secret is the managed value the response pipeline scrubs.
func (ex *exchange) secret() string { return ex.cred.Secret.Reveal() }

// holdBound says what a bound was exceeded for, in the record and the
// client's error.
func holdBound(what string, limit int) string {
	return fmt.Sprintf("airlock: %s exceeded %d bytes; the response was cut", what, limit)
}

// statusCut answers a JSON response cut at its bound: the upstream's
// answer was not one the gateway could pass on.
const statusCut = http.StatusBadGateway
