// Package mask finds secrets and personal data in Claude API traffic and
// replaces them with deterministic placeholders: in request bodies, in
// non-streamed responses and, exactly at any chunk boundary, in SSE streams.
package mask

import (
	"time"

	"go.uber.org/zap"
)

// Result says what a masking pass did.
type Result struct {
	Counts     map[string]int // detector → items masked
	Incomplete bool           // held text was flushed unmasked (hold bound exceeded)
}

// Add merges o into r.
func (r *Result) Add(o Result) {
	for name, n := range o.Counts {
		if r.Counts == nil {
			r.Counts = make(map[string]int)
		}
		r.Counts[name] += n
	}
	r.Incomplete = r.Incomplete || o.Incomplete
}

// Custom is a detector from configuration.
type Custom struct {
	Name, Pattern string   // Pattern is RE2
	Keywords      []string // prefilter anchors; empty = always run
	Confidence    string
}

// Literal masks exact values from configuration.
type Literal struct {
	Name   string
	Values []string
}

// Config configures a Masker.
type Config struct {
	Key           []byte   // key of the keyed hash in placeholders (a per-install secret)
	PII           bool     // turn on the opt-in PII detectors (email, credit_card, phone, us_ssn)
	Disable       []string // detectors to turn off, by id or by tag ("gitleaks", "builtin", "aws", ...)
	Enable        []string // detectors to keep on although Disable names them (by id or tag); PII ids/tags turn PII on
	RulesFile     string   // a gitleaks-format TOML file of extra rules (kind custom)
	Custom        []Custom
	Literals      []Literal
	MaxHold       int  // bytes a stream may hold back per content block (0 = 64 KiB)
	CutOnOverflow bool // on hold overflow: false = flush unmasked + Incomplete; true = end the stream with an error event
	CacheEntries  int  // digest cache entries for resent content (0 = default, -1 = off)
	// MaxPrefilterBytes bounds the keyword prefilter (0 = 64 MiB): New
	// fails, naming the largest detector, when keywords and literal values
	// would make it larger.
	MaxPrefilterBytes int
	// Budget bounds the time masking one request body may take (0 = 3 s,
	// negative = none); beyond it Request fails with ErrBudgetExceeded.
	Budget time.Duration
}

// DetectorInfo describes one detector.
type DetectorInfo struct {
	Name       string   `json:"id"`
	Kind       string   `json:"kind"` // credential | pii | custom
	Confidence string   `json:"confidence"`
	Tags       []string `json:"tags"`
	Keywords   []string `json:"keywords,omitempty"` // prefilter keywords (none: keywordless)
	Source     string   `json:"source"`             // builtin | gitleaks <version> | rules_file | config
}

// Selection names the detectors to run; nil = every enabled detector.
// managed_credential always runs.
type Selection []string

// StreamOptions tunes a Stream.
type StreamOptions struct {
	OnEvent func(event []byte) // each complete SSE event exactly as written to dst
	// Log receives a warning for each event passed through unparsed
	// (never its content); nil = zap.NewNop().
	Log *zap.Logger
}
