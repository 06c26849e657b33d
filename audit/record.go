// Package audit keeps the tamper-evident record of every intercepted request and
// the session recordings that let an operator replay what was sent and received.
package audit

import (
	"time"

	"github.com/airlock-dev/airlock/caller"
)

// Record is one intercepted request, as the gateway saw it end to end. It holds
// fingerprints and counts, never a credential.
type Record struct {
	ID               int64          `json:"id"`                   // assigned by the store
	Host             string         `json:"host,omitempty"`       // set when read from a fleet's central store; not part of the chain
	Time             time.Time      `json:"time"`                 // when the request arrived
	RequestID        string         `json:"request_id"`           // ours
	UpstreamID       string         `json:"upstream_request_id"`  // upstream's request-id header
	SessionID        string         `json:"session_id,omitempty"` // X-Claude-Code-Session-Id, or derived
	Caller           caller.Process `json:"caller"`
	Dst              string         `json:"dst"` // original destination, addr:port
	SNI              string         `json:"sni"`
	Method           string         `json:"method"`
	Path             string         `json:"path"`
	Model            string         `json:"model,omitempty"`
	Stream           bool           `json:"stream"`
	Decision         string         `json:"decision"` // allow | deny | approval_denied | approval_timeout | error
	Rule             string         `json:"rule"`
	Reason           string         `json:"reason,omitempty"`
	Credential       string         `json:"credential,omitempty"` // name of the managed credential used
	ApprovalID       string         `json:"approval_id,omitempty"`
	Approver         string         `json:"approver,omitempty"`
	ApprovalReason   string         `json:"approval_reason,omitempty"` // what the operator (or the timeout) said
	Masked           map[string]int `json:"masked,omitempty"`          // detector name -> count, both directions
	MaskIncomplete   bool           `json:"mask_incomplete,omitempty"`
	EmbeddedClass    string         `json:"embedded_class"` // api_key | oauth_token | admin_key | other | none
	EmbeddedFP       string         `json:"embedded_fingerprint,omitempty"`
	Status           int            `json:"status"`
	TTFB             time.Duration  `json:"ttfb_ns"`
	Duration         time.Duration  `json:"duration_ns"`
	BytesIn          int64          `json:"bytes_in"`  // request body bytes from the client
	BytesOut         int64          `json:"bytes_out"` // response body bytes to the client
	InputTokens      int64          `json:"input_tokens"`
	OutputTokens     int64          `json:"output_tokens"`
	CacheReadTokens  int64          `json:"cache_read_tokens"`
	CacheWriteTokens int64          `json:"cache_write_tokens"`
	Actions          []Action       `json:"actions,omitempty"`          // tool calls in the response
	ToolResults      []ToolResult   `json:"tool_results,omitempty"`     // results of earlier actions in this request
	RecordingHash    string         `json:"recording_sha256,omitempty"` // filled by the store: SHA-256 of the stored (compressed) recording, so the chain covers it
	Hash             string         `json:"hash,omitempty"`             // filled by the store: the chain link
	PrevHash         string         `json:"prev_hash,omitempty"`        // filled by the store
}

// Recording is the masked content of one request and its response, linked to
// its Record. Events are the SSE events (or the single JSON body) as the client
// received them, each with its offset from the start of the response.
type Recording struct {
	RequestBody []byte  `json:"request_body"`
	Status      int     `json:"status"`
	ContentType string  `json:"content_type"`
	Events      []Event `json:"events"`
}

// Event is one unit of response: an SSE event's raw bytes (including its
// terminating blank line) or a whole non-streamed body.
type Event struct {
	Offset time.Duration `json:"offset_ns"`
	Data   []byte        `json:"data"`
}
