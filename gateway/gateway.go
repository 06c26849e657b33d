// Package gateway is the http.Handler between TLS termination and the real
// Claude API. For every request it strips the credential the application
// embedded, reads and masks the body, asks the policy, holds for approval when
// a rule says so, substitutes the managed credential and forwards through
// httputil.ReverseProxy; on the way back it masks the JSON body or the SSE
// stream, counts tokens, and writes the audit record before the last bytes of
// the response reach the client.
package gateway

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/policy"
	"github.com/airlock-dev/airlock/policy/approval"
	"github.com/airlock-dev/airlock/policy/credential"
	"github.com/airlock-dev/airlock/policy/mask"
)

// Approver holds a request until an operator decides or the hold expires.
type Approver interface {
	Await(ctx context.Context, req approval.Request) (approval.Outcome, error)
}

// Auditor stores a record (and, unless the rule says metadata only, the
// recording) of every request.
type Auditor interface {
	Write(ctx context.Context, rec *audit.Record, rc *audit.Recording) error
	Ready() error
}

// Defaults for Config's zero values. DefaultMaxBody is the API's own
// request size limit for Messages.
const (
	DefaultMaxBody     = 32 << 20
	DefaultMaxInFlight = 256 << 20
	DefaultBodyTimeout = time.Minute
)

// Config wires the gateway to the rest of the daemon.
type Config struct {
	Transport     http.RoundTripper     // verified upstream transport (tlsmitm.NewUpstream)
	Upstream      *url.URL              // where to forward; nil = https://<the connection's SNI>
	Policy        func() *policy.Engine // the engine in force (policy.Current.Engine)
	Credentials   *credential.Store     // managed credentials
	InstallKey    []byte                // keys embedded-credential fingerprints
	Masker        *mask.Masker          // nil = no masking; its owner subscribes it to Credentials (internal/daemon does)
	Approver      Approver              // nil = require_approval denies
	Auditor       Auditor               // nil = no audit
	AuditFailOpen bool                  // serve even when the audit cannot be written
	MaxBody       int64                 // request body limit, and a JSON response's; 0 = DefaultMaxBody
	MaxInFlight   int64                 // all request bodies held at once; 0 = DefaultMaxInFlight
	BodyTimeout   time.Duration         // time to send a body; 0 = DefaultBodyTimeout
	MaxEvent      int                   // largest upstream SSE event; 0 = DefaultMaxEvent
	ActionHold    int                   // largest tool-use block held for a decision; 0 = DefaultActionHold
	ActionPing    time.Duration         // ping interval while a tool call awaits approval; 0 = DefaultActionPing
	Log           *zap.Logger
}

// Gateway is the request handler. It is safe for concurrent use.
type Gateway struct {
	cfg    Config
	log    *zap.Logger
	strip  *credential.Stripper
	proxy  *httputil.ReverseProxy
	idBase string
	idSeq  atomic.Uint64
	bufs   *bufferPool
	held   bodyBudget // bytes of request bodies held by requests in flight
	// argMasker cleans callers' command lines before they are audited.
	argMasker *mask.Masker
}

// New checks cfg and builds the handler.
func New(cfg Config) (*Gateway, error) {
	if cfg.Policy == nil || cfg.Credentials == nil {
		return nil, errors.New("gateway: Policy and Credentials are required")
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	cfg.MaxBody = cmp.Or(max(cfg.MaxBody, 0), DefaultMaxBody)
	cfg.MaxInFlight = cmp.Or(max(cfg.MaxInFlight, 0), DefaultMaxInFlight)
	cfg.BodyTimeout = cmp.Or(max(cfg.BodyTimeout, 0), DefaultBodyTimeout)
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	g := &Gateway{cfg: cfg, log: cfg.Log.Named("gateway"), strip: credential.NewStripper(cfg.InstallKey)}
	g.idBase = "req_airlock_" + randomHex(6) + "_"
	g.bufs = newBufferPool()
	g.held.limit = cfg.MaxInFlight
	g.proxy = &httputil.ReverseProxy{
		Rewrite:   g.rewrite,
		Transport: cfg.Transport,
		// 0, not -1: ReverseProxy flushes SSE and unknown-length bodies at
		// once by itself, and a known-length JSON answer needs no flush per write.
		FlushInterval:  0,
		BufferPool:     g.bufs,
		ModifyResponse: g.modifyResponse,
		ErrorHandler:   g.upstreamError,
		ErrorLog:       zap.NewStdLog(g.log),
	}
	var err error
	if g.argMasker, err = newArgMasker(cfg.Masker, cfg.InstallKey); err != nil {
		return nil, fmt.Errorf("building the command-line masker: %w", err)
	}
	return g, nil
}

func (g *Gateway) nextID() string {
	return g.idBase + strconv.FormatUint(g.idSeq.Add(1), 10)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
