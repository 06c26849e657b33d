// Package fakeapi is a faithful fake of the Claude API for tests, the demo and
// the benchmarks. It authenticates like the API, answers /v1/messages as JSON or
// as a server-sent event stream with every event and delta type, and records
// every request it receives so tests can assert on what the upstream saw.
//
// Responses are deterministic and chosen by the request: the header
// x-fake-scenario (or a model named "fake-<scenario>") picks text, echo,
// tool_use, thinking, citations, midstream_error, long, slow or error; see
// Scenario* constants and the x-fake-* headers in params.go.
package fakeapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/apierror"
)

// MaxBodyBytes is the API's request size limit for Messages and count_tokens.
const MaxBodyBytes = 32 << 20

// Config says which credentials the fake accepts and how it behaves.
type Config struct {
	APIKeys      []string      // accepted x-api-key values
	BearerTokens []string      // accepted Authorization: Bearer values
	ThinkTime    time.Duration // delay before the response headers (x-fake-think-ms overrides)
	NoRecord     bool          // benchmarks: keep no per-request copy (memory stays flat)
	Log          *zap.Logger
}

// Request is one request as the fake received it.
type Request struct {
	Method string
	URI    string // path and query, as sent
	Path   string
	Proto  string
	Host   string
	Header http.Header // cloned
	Body   []byte
	Time   time.Time
}

// Server is the fake API, an http.Handler.
type Server struct {
	cfg     Config
	log     *zap.Logger
	keys    map[string]bool
	tokens  map[string]bool
	counter atomic.Uint64

	mu       sync.Mutex
	requests []Request
}

// New returns a fake API that accepts the configured credentials. With no
// credentials configured every request is refused, as the API would.
func New(cfg Config) *Server {
	log := cfg.Log
	if log == nil {
		log = zap.NewNop()
	}
	return &Server{cfg: cfg, log: log.Named("fakeapi"), keys: setOf(cfg.APIKeys), tokens: setOf(cfg.BearerTokens)}
}

func setOf(values []string) map[string]bool {
	m := make(map[string]bool, len(values))
	for _, v := range values {
		m[v] = true
	}
	return m
}

// Requests returns a copy of every request received since the last Reset.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Reset forgets the recorded requests.
func (s *Server) Reset() {
	s.mu.Lock()
	s.requests = nil
	s.mu.Unlock()
}

// ServeHTTP records the request, authenticates it and routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := s.nextID("req_fake")
	w.Header().Set("Request-Id", reqID)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	s.record(r, body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		apierror.Write(w, http.StatusRequestEntityTooLarge, apierror.RequestTooLarge, "Request exceeds the maximum allowed number of bytes.", reqID)
		return
	case err != nil:
		apierror.Write(w, http.StatusBadRequest, apierror.InvalidRequest, "could not read the request body", reqID)
		return
	}
	if msg := s.authenticate(r.Header); msg != "" {
		s.log.Debug("refused", zap.String("path", r.URL.Path), zap.String("reason", msg))
		apierror.Write(w, http.StatusUnauthorized, apierror.Authentication, msg, reqID)
		return
	}
	s.route(w, r, &call{id: reqID, body: body})
}

// call is what the handlers need about one authenticated request.
type call struct {
	id   string
	body []byte
}

func (s *Server) record(r *http.Request, body []byte) {
	if s.cfg.NoRecord {
		return
	}
	rec := Request{Method: r.Method, URI: r.URL.RequestURI(), Path: r.URL.Path, Proto: r.Proto,
		Host: r.Host, Header: r.Header.Clone(), Body: bytes.Clone(body), Time: time.Now()}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
}

// authenticate applies the API's rule, strictly: exactly one credential
// header, carrying an accepted value. A proxy that lets the client's own key
// through next to the managed one fails. An API key is accepted as x-api-key
// or as a bearer token: the Go SDK v2 sends its API key as Authorization: Bearer.
func (s *Server) authenticate(h http.Header) string {
	keys, auths := h.Values("X-Api-Key"), h.Values("Authorization")
	if len(keys) == 0 && len(auths) == 0 {
		return "x-api-key header is required"
	}
	if len(keys)+len(auths) > 1 {
		return "multiple credentials were sent; send exactly one of x-api-key or Authorization"
	}
	for _, k := range keys {
		if !s.keys[k] {
			return "invalid x-api-key"
		}
	}
	for _, a := range auths {
		token, ok := strings.CutPrefix(a, "Bearer ")
		if !ok || !(s.tokens[token] || s.keys[token]) {
			return "Invalid bearer token"
		}
	}
	return ""
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, c *call) {
	path := r.URL.Path
	switch {
	case path == "/v1/messages":
		s.onlyMethod(w, r, c, http.MethodPost, s.messages)
	case path == "/v1/messages/count_tokens":
		s.onlyMethod(w, r, c, http.MethodPost, s.countTokens)
	case path == "/v1/models":
		s.onlyMethod(w, r, c, http.MethodGet, s.listModels)
	case strings.HasPrefix(path, "/v1/models/"):
		s.onlyMethod(w, r, c, http.MethodGet, s.getModel)
	case strings.HasPrefix(path, "/api/"):
		s.claudeCodeAPI(w, r, c)
	default:
		apierror.Write(w, http.StatusNotFound, apierror.NotFound, "Not found", c.id)
	}
}

func (s *Server) onlyMethod(w http.ResponseWriter, r *http.Request, c *call, method string, h func(http.ResponseWriter, *http.Request, *call)) {
	if r.Method != method {
		w.Header().Set("Allow", method)
		apierror.Write(w, http.StatusMethodNotAllowed, apierror.InvalidRequest, fmt.Sprintf("Method Not Allowed: %s %s", r.Method, r.URL.Path), c.id)
		return
	}
	h(w, r, c)
}

// claudeCodeAPI answers the non-/v1/ endpoints Claude Code calls before a
// session (/api/claude_code/settings, policy_limits) with an empty object.
func (s *Server) claudeCodeAPI(w http.ResponseWriter, r *http.Request, c *call) {
	if r.Method != http.MethodGet {
		apierror.Write(w, http.StatusNotFound, apierror.NotFound, "Not found", c.id)
		return
	}
	writeJSON(w, http.StatusOK, []byte("{}"))
}

func (s *Server) nextID(prefix string) string {
	return fmt.Sprintf("%s_%016x", prefix, s.counter.Add(1))
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}
