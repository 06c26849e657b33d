package mask

import (
	"encoding/base64"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Decoders: secrets hidden in an encoding. Two windowed detectors (the
// same machinery as gitleaks' rules, so a stream finds exactly what Text
// finds) decode a run of encoded text and mask the whole run when the
// decoded text holds a secret any other detector masks:
//
//   - base64_secret: a base64 (or base64url) run whose decoded text holds
//     a JWT or a key=value secret. Its keywords are the base64 spellings,
//     at each of the three byte alignments, of a JWT header's start and of
//     credential names (password, secret, token, ...), so only runs that
//     may decode to one are decoded.
//   - url_encoded_secret: a percent-encoded value in a query string or a
//     form body (name=value, up to & or the end of the run); its keywords
//     are the escapes of ASCII bytes (%2x ... %7x). The decoded value is
//     scanned after its name, so password=p%40ss%21word is a password.
//
// Decoded text is scanned with the decoders off (no recursion).
//
// Where a span may start is defined so that a stream need not hold every
// trailing word: a base64 span starts at its run's start, and only a run
// whose first 4 bytes look encoded (a digit, + / - _, or a capital after
// the first byte: "ZXlK", "REJf", "aG9z"; not "Hello", "with") counts, so
// about 5 in 100 random base64 runs are not decoded; a URL span is the
// value after the last = before the escape (pairs only). A stream holds
// exactly those starts (base64Hold, urlHold), so it still masks what Text
// masks at any split.

const (
	decoderBack = 192  // how far before its keyword a run may start
	decoderFwd  = 4096 // how far after it the run may go on
)

var (
	b64Byte = byteSet("AZaz09", "+/_-")
	b64Run  = byteSet("AZaz09", "+/_-=")
	// urlRun: bytes of a query or form pair (name=value); & ? # blanks,
	// quotes and brackets end it.
	urlRun = byteSet("AZaz09", "-._~%+!*(),;:@/=$[]")
)

// base64Triggers are decoded texts whose base64 spelling starts a decode:
// JWT headers ({"alg", {"typ", {"kid") and credential names in the cases
// people write them.
var base64Triggers = []string{`eyJhbGci`, `eyJ0eXAi`, `eyJraWQi`,
	"password", "Password", "PASSWORD", "passwd", "PASSWD", "secret", "Secret", "SECRET",
	"token", "Token", "TOKEN", "api_key", "API_KEY", "apikey", "apiKey", "APIKEY", "access_key", "ACCESS_KEY"}

func decoderDetectors() []*detector {
	var b64 []string
	for _, t := range base64Triggers {
		for a := 0; a < 3; a++ {
			if f := stableBase64(t, a); len(f) >= 5 {
				b64 = appendNew(b64, f, strings.NewReplacer("+", "-", "/", "_").Replace(f))
			}
		}
	}
	pct := []string{"%2", "%3", "%4", "%5", "%6", "%7"}
	return []*detector{
		decoderDetector("base64_secret", b64, b64Byte, b64Run, (*scanner).base64Span, (*scanner).base64Hold),
		decoderDetector("url_encoded_secret", pct, urlRun, urlRun, (*scanner).urlSpan, (*scanner).urlHold),
	}
}

func decoderDetector(name string, keywords []string, pre, run *[256]bool, find decodeFunc, hold func(*scanner, int) int) *detector {
	w := &winRule{pre: pre, back: decoderBack, fwd: decoderFwd, decode: find, hold: hold, run: run}
	info := DetectorInfo{Name: name, Kind: KindCredential, Confidence: "medium", Keywords: keywords,
		Tags: []string{"builtin", KindCredential, "decoder"}, Source: "builtin"}
	return &detector{info: info, keywords: keywords, win: w}
}

// decodeFunc finds the encoded secret of the occurrence [ks, ke) whose run
// of pre bytes starts at runStart, within the window ending at hi.
type decodeFunc func(s *scanner, det, runStart, ks, ke, hi int) (vs, ve int, ok bool)

// decoderWindowEnd is windowEnd for a decoder: the window ends one byte
// after the run (that byte decides it), at most fwd bytes on. Occurrences
// in one run (%20%20%20...) share the measurement: the scan goes on from
// where the last one stopped, so a long run costs one pass, not one per
// occurrence.
func (s *scanner) decoderWindowEnd(w *winRule, ke int, final bool) (int, bool) {
	m := &s.runScans[0]
	if w.run == b64Run {
		m = &s.runScans[1]
	}
	i := ke
	if m.run == w.run && m.from <= ke && ke <= m.to {
		i = m.to
	} else {
		*m = runScan{run: w.run, from: ke}
	}
	lim := min(s.end, ke+w.fwd)
	for i < lim && w.run[s.buf[i-s.base]] {
		i++
	}
	m.to = i
	switch {
	case i < lim:
		return i + 1, true // the terminator at i is present
	case lim == ke+w.fwd || final:
		return lim, true
	}
	return 0, false
}

// runScan is how far a run of a decoder's bytes was measured: [from, to).
type runScan struct {
	run      *[256]bool
	from, to int
}

// runEndIn is the end of the run that starts before hi in a window that
// decoderWindowEnd closed: hi is one past the terminator, or the cut.
func (s *scanner) runEndIn(run *[256]bool, hi int) int {
	if hi > 0 && !run[s.buf[hi-1-s.base]] {
		return hi - 1
	}
	return hi
}

// decoded remembers a decoder's last verdict: occurrences in one run
// share it (same span, same decoded text).
type decoded struct {
	det, vs, end int
	ok           bool
	set          bool
}

// decodeOnce runs verdict for the span [vs, end) of det unless the last
// call asked the same.
func (s *scanner) decodeOnce(det, vs, end int, verdict func() bool) bool {
	if d := s.lastDecoded; d.set && d.det == det && d.vs == vs && d.end == end {
		return d.ok
	}
	ok := verdict()
	s.lastDecoded = decoded{det: det, vs: vs, end: end, ok: ok, set: true}
	return ok
}

// stableBase64 is the part of the base64 spelling of t, preceded by a
// bytes, that does not depend on the bytes around it.
func stableBase64(t string, a int) string {
	enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x00", a) + t + "\x00\x00"))
	from := (8*a + 5) / 6      // first output char whose 6 bits all lie in t
	to := 8 * (a + len(t)) / 6 // chars before this one end within t
	return enc[from:min(to, len(enc))]
}

// base64Span: the whole base64 run around the occurrence, if it decodes to
// text that holds a secret.
func (s *scanner) base64Span(det, runStart, ks, ke, hi int) (int, int, bool) {
	if runStart <= ks-decoderBack || !looksEncoded(s.buf[runStart-s.base:ke-s.base]) {
		return 0, 0, false // the run may start further back than any window reaches, or is a word
	}
	end := s.runEndIn(b64Run, hi)
	ok := s.decodeOnce(det, runStart, end, func() bool {
		text, ok := decodeBase64(string(s.buf[runStart-s.base : end-s.base]))
		return ok && s.holdsSecret("", text)
	})
	return runStart, end, ok
}

func decodeBase64(run string) (string, bool) {
	core := strings.TrimRight(run, "=")
	if len(core)%4 == 1 {
		core = core[:len(core)-1] // a stray last byte carries no whole byte
	}
	enc := base64.RawStdEncoding
	if strings.ContainsAny(core, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(core)
	return string(b), err == nil && mostlyText(b)
}

// mostlyText: decoded bytes that read as text (9 in 10 printable or
// UTF-8), not an image or a compressed blob that happens to hold a name.
func mostlyText(b []byte) bool {
	text := 0
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r >= 0x20 && r != utf8.RuneError && r != 0x7f || r == '\n' || r == '\r' || r == '\t' {
			text += n
		}
		i += n
	}
	return len(b) > 0 && text*10 >= len(b)*9
}

// urlSpan: the percent-encoded value of the pair around the occurrence,
// if decoding it reveals a secret (read after its name).
func (s *scanner) urlSpan(det, runStart, ks, ke, hi int) (int, int, bool) {
	if runStart <= ks-decoderBack {
		return 0, 0, false
	}
	vs := s.valueStart(runStart, ks)
	if vs < 0 {
		return 0, 0, false // not a name=value pair
	}
	end := s.runEndIn(urlRun, hi)
	ok := s.decodeOnce(det, vs, end, func() bool {
		raw := string(s.buf[vs-s.base : end-s.base])
		value, err := url.QueryUnescape(raw)
		name := string(s.buf[runStart-s.base : vs-s.base]) // "name="
		return err == nil && value != raw && s.holdsSecret(name, value)
	})
	return vs, end, ok
}

// holdsSecret says whether masking name+value (decoders off) changes the
// value: a detector found a secret in it.
func (s *scanner) holdsSecret(name, value string) bool {
	out, res := s.e.text(name+value, s.innerActive(), s.bud)
	return res.Counts != nil && strings.HasPrefix(out, name) && out[len(name):] != value
}

// innerActive is the active set without the decoders.
func (s *scanner) innerActive() []bool {
	if s.inner == nil {
		s.inner = append([]bool(nil), s.active...)
		for i, d := range s.e.detectors {
			if d.win != nil && d.win.decode != nil {
				s.inner[i] = false
			}
		}
	}
	return s.inner
}

// looksEncoded: the first 4 bytes of a run hold a digit, + / - _, or a
// capital after the first byte (a run shorter than 4 may still become one).
func looksEncoded(run []byte) bool {
	if len(run) < 4 {
		return len(run) > 0
	}
	for i, c := range run[:4] {
		if c >= '0' && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_' || i > 0 && c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

// base64Hold: the trailing run of base64 bytes before x, if it may still
// become a span (it looks encoded and is shorter than the back reach).
func (s *scanner) base64Hold(x int) int {
	j := x
	for j > s.cur && x-j < decoderBack && b64Byte[s.buf[j-1-s.base]] {
		j--
	}
	if j < x && x-j < decoderBack && looksEncoded(s.buf[j-s.base:x-s.base]) {
		return j
	}
	return x
}

// valueStart is the byte after the last = in [runStart, ks), or -1.
func (s *scanner) valueStart(runStart, ks int) int {
	for i := ks - 1; i >= runStart; i-- {
		if s.buf[i-s.base] == '=' {
			return i + 1
		}
	}
	return -1
}

// urlHold: the value after the last = of the trailing pair before x.
func (s *scanner) urlHold(x int) int {
	j := x
	for j > s.cur && x-j < decoderBack && urlRun[s.buf[j-1-s.base]] {
		j--
	}
	if vs := s.valueStart(j, x); vs >= 0 && x-j < decoderBack {
		return vs
	}
	return x
}
