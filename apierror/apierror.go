// Package apierror writes errors in the Claude API's own shape, so that SDKs
// raise a typed error with a message a person can act on.
package apierror

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Error types the API uses, by the status that carries them.
const (
	InvalidRequest  = "invalid_request_error" // 400
	Authentication  = "authentication_error"  // 401
	Permission      = "permission_error"      // 403
	NotFound        = "not_found_error"       // 404
	RequestTooLarge = "request_too_large"     // 413
	RateLimit       = "rate_limit_error"      // 429
	API             = "api_error"             // 500, 502
	Overloaded      = "overloaded_error"      // 529, 503
)

// Body is the JSON error envelope the API returns.
type Body struct {
	Type      string `json:"type"`
	Error     Detail `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

// Detail is the inner error object.
type Detail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// Marshal returns the API-shaped JSON for an error of errType.
func Marshal(errType, message, requestID string) []byte {
	b, _ := json.Marshal(Body{Type: "error", Error: Detail{Type: errType, Message: message}, RequestID: requestID})
	return b
}

// Write answers w with status and an API-shaped error body.
func Write(w http.ResponseWriter, status int, errType, message, requestID string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Should-Retry", strconv.FormatBool(retryable(status)))
	if requestID != "" {
		h.Set("Request-Id", requestID)
	}
	w.WriteHeader(status)
	w.Write(Marshal(errType, message, requestID))
}

// WriteRetryAfter answers a rate limit with the Retry-After the SDKs honour.
func WriteRetryAfter(w http.ResponseWriter, after time.Duration, message, requestID string) {
	secs := int((after + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	Write(w, http.StatusTooManyRequests, RateLimit, message, requestID)
}

// retryable mirrors the SDKs' default retry rule (408, 409, 429, 5xx), so the
// X-Should-Retry header we send agrees with what the client would do anyway.
func retryable(status int) bool {
	return status == 408 || status == 409 || status == 429 || status >= 500
}
