// Package credential owns the managed credentials Airlock substitutes for
// whatever an application embedded: where they come from (file, environment,
// systemd credential, helper command), how they rotate, how they are written
// into the upstream request, and how embedded client credentials are stripped
// and fingerprinted. A value never leaves this package except through
// Secret.Reveal.
package credential

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Secret holds a credential value. Every formatting path (fmt verbs, JSON,
// text, slog, zap through Stringer or reflection) prints a redacted form. The
// value is captured in a closure, so even reflection-based printers that
// bypass methods (a Secret in an unexported struct field, printed with %v or
// a bad verb) can only show a function address.
type Secret struct{ get func() string }

// NewSecret wraps v.
func NewSecret(v string) Secret { return Secret{get: func() string { return v }} }

// Reveal returns the value. Call it only to set the upstream header and to
// tell the masker what the managed value looks like.
func (s Secret) Reveal() string {
	if s.get == nil {
		return ""
	}
	return s.get()
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.Reveal() == "" }

// redacted names the kind of value without any of its secret part.
func (s Secret) redacted() string {
	v := s.Reveal()
	if v == "" {
		return "[redacted empty]"
	}
	for _, p := range []string{"sk-ant-api", "sk-ant-oat", "sk-ant-admin", "sk-ant-ort"} {
		if strings.HasPrefix(v, p) {
			return "[redacted " + p + "…]"
		}
	}
	return "[redacted]"
}

// String implements fmt.Stringer with the redacted form.
func (s Secret) String() string { return s.redacted() }

// GoString implements fmt.GoStringer with the redacted form.
func (s Secret) GoString() string { return "credential.Secret(" + s.redacted() + ")" }

// Format implements fmt.Formatter so that every verb (%s %v %q %x %d …) is redacted.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, s.GoString())
		return
	}
	io.WriteString(f, s.redacted())
}

// MarshalJSON encodes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.redacted() + `"`), nil }

// MarshalText encodes the redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.redacted()), nil }

// LogValue implements slog.LogValuer with the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.redacted()) }
