package credential

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

// Classes of credential an application may have embedded.
const (
	ClassAPIKey     = "api_key"
	ClassOAuthToken = "oauth_token"
	ClassAdminKey   = "admin_key"
	ClassOther      = "other"
	ClassNone       = "none"
)

// credentialHeaders are removed from every request, in any case and
// repetition: the API's own, and the names other APIs and SDKs use for a
// key (Anthropic-Api-Key, Api-Key, X-Goog-Api-Key), which the API ignores
// but an upstream or a log could still read.
var credentialHeaders = []string{"X-Api-Key", "Authorization", "Proxy-Authorization",
	"Anthropic-Api-Key", "Api-Key", "X-Goog-Api-Key"}

// silentHeaders are removed too but are no credential of an API client:
// the API sets no cookie, so a Cookie can only carry something else's session.
var silentHeaders = []string{"Cookie"}

// Embedded describes what the client sent, never the value itself.
type Embedded struct {
	Class       string // one of the Class constants; the most telling one when several
	Fingerprint string // first 12 hex of HMAC-SHA256(install key, value); "" for none
	Count       int    // how many credential header values were removed
}

// Stripper removes client credentials and fingerprints them with a key that is
// specific to this installation, so fingerprints correlate within a host but
// cannot be brute-forced offline against a known key list elsewhere.
type Stripper struct{ key []byte }

// NewStripper returns a Stripper keyed with installKey.
func NewStripper(installKey []byte) *Stripper { return &Stripper{key: installKey} }

// Strip removes every credential header from h and classifies what was there.
func (s *Stripper) Strip(h http.Header) Embedded {
	var e Embedded
	e.Class = ClassNone
	for k, vs := range h {
		if isOneOf(k, silentHeaders) {
			delete(h, k)
		}
		if !isCredentialHeader(k) {
			continue
		}
		for _, v := range vs {
			s.observe(&e, tokenOf(v))
		}
		delete(h, k)
	}
	return e
}

// observe keeps the most specific class seen (an Anthropic credential beats "other").
func (s *Stripper) observe(e *Embedded, v string) {
	e.Count++
	c := Classify(v)
	if e.Class == ClassNone || (e.Class == ClassOther && c != ClassOther) {
		e.Class = c
		e.Fingerprint = s.fingerprint(v)
	}
}

func (s *Stripper) fingerprint(v string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(v))
	var sum [sha256.Size]byte
	return hex.EncodeToString(m.Sum(sum[:0])[:6])
}

func isCredentialHeader(k string) bool { return isOneOf(k, credentialHeaders) }

func isOneOf(k string, names []string) bool {
	for _, c := range names {
		if strings.EqualFold(k, c) {
			return true
		}
	}
	return false
}

// tokenOf drops an auth scheme ("Bearer ", "Basic ") so the class and
// fingerprint depend on the token alone.
func tokenOf(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, ' '); i > 0 && !strings.HasPrefix(v, "sk-") {
		return strings.TrimSpace(v[i+1:])
	}
	return v
}

// Classify names the kind of credential v is.
func Classify(v string) string {
	switch {
	case v == "":
		return ClassOther
	case strings.HasPrefix(v, "sk-ant-api"):
		return ClassAPIKey
	case strings.HasPrefix(v, "sk-ant-oat"):
		return ClassOAuthToken
	case strings.HasPrefix(v, "sk-ant-admin"):
		return ClassAdminKey
	}
	return ClassOther
}
