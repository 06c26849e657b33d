package credential

import (
	"net/url"
	"strings"
)

// credentialParams are query parameters that carry a key in some API or
// SDK (Google's key and api_key, OAuth's access_token, ...). The Claude API
// takes its credential only in headers, so none of them is needed upstream.
var credentialParams = []string{"api_key", "apikey", "api-key", "key", "x-api-key", "x_api_key",
	"anthropic_api_key", "anthropic-api-key", "access_token", "token", "auth", "authorization",
	"bearer", "password", "secret", "client_secret", "refresh_token", "id_token", "session"}

// StripQuery returns raw without the parameters that carry a credential:
// a credential name, an Anthropic-shaped value, or one that shaped (the
// caller's detectors; nil for none) recognises. What it removes is observed
// into e like a credential header. Other parameters keep their bytes and
// order; raw comes back unchanged when nothing is removed.
func (s *Stripper) StripQuery(raw string, e *Embedded, shaped func(string) bool) string {
	if raw == "" {
		return raw
	}
	kept := make([]string, 0, strings.Count(raw, "&")+1)
	for part := range strings.SplitSeq(raw, "&") {
		name, value := decodeParam(part)
		pair := name + "=" + value
		if isOneOf(name, credentialParams) || strings.Contains(part+pair, "sk-ant-") || (shaped != nil && shaped(pair)) {
			s.observe(e, value)
			continue
		}
		kept = append(kept, part)
	}
	if len(kept) == strings.Count(raw, "&")+1 {
		return raw
	}
	return strings.Join(kept, "&")
}

// decodeParam splits and unescapes one name=value pair; a part that does
// not unescape is judged on its raw bytes.
func decodeParam(part string) (string, string) {
	name, value, _ := strings.Cut(part, "=")
	if n, err := url.QueryUnescape(name); err == nil {
		name = n
	}
	if v, err := url.QueryUnescape(value); err == nil {
		value = v
	}
	return strings.TrimSpace(name), strings.TrimSpace(value)
}
