package mask

import (
	"regexp"
	"regexp/syntax"
)

// Detector kinds.
const (
	KindCredential = "credential"
	KindPII        = "pii"
	KindCustom     = "custom"
)

// ManagedCredential is the detector that masks the managed credential by
// exact value; it is always on.
const ManagedCredential = "managed_credential"

// detector decides, at one position of a text, whether a secret starts
// there. Every decision depends only on the byte before the position and on
// a window after it that ends at the first byte a match cannot contain (or
// maxLen bytes on): that locality is what makes stream masking exact.
type detector struct {
	info     DetectorInfo
	keywords []string // a match starts with one of these (ASCII case-insensitive); none = keywordless
	exact    bool     // keywords are literal values matched case-sensitively, no regexp
	re       *regexp.Regexp
	short    shortForms // re for short windows (short_regexp.go)
	cont     [256]bool  // bytes a match may contain
	contAll  bool       // cont holds every byte
	maxLen   int        // bytes a match may span
	// reach, for a pattern without assertions, says how far into the run
	// of bytes it may contain a match can extend (so try's window ends
	// there): nil = the whole run.
	reach func(run []byte) int
	// startAt, for keywordless detectors, says whether a match may start at
	// a byte c preceded by prev (prev < 0 at the start of the text).
	startAt     func(prev int, c byte) bool
	leftBound   bool       // the byte before the match must not be a word byte
	notFollowed *[256]bool // the byte after the match must not be one of these
	needByte    byte       // quick reject: the window must contain this byte (0 = none)
	// quickReject says, from the bytes available so far (starting at the
	// candidate), that no match can start here. It must be monotone: once
	// true for a prefix, true for every extension. It lets streams release
	// prose like "the token is" at once instead of waiting for the window.
	quickReject  func(b []byte) bool
	deferToValue bool // a specific detector matching the value wins (assignments)
	earlyMatch   bool // a match found in a partial window is final (lazy tail with a literal end)
	validate     func(value string) bool
	// validateMatch, if set, also sees the whole match (allow-lists that
	// read the name, such as gitleaks' "secret_length" or "token_url").
	validateMatch func(match, value string) bool
	win           *winRule // a windowed rule (gitleaks' shape); keywords trigger it
	// twin, for a built-in that a gitleaks rule duplicates, applies that
	// rule's allow-lists to the value (known public keys, placeholders).
	twin func(value string) bool
}

// newRegexDetector compiles pattern anchored at the candidate position and
// derives the set of bytes a match may contain from its syntax tree.
func newRegexDetector(info DetectorInfo, pattern string, maxLen int, keywords ...string) (*detector, error) {
	re, err := regexp.Compile(`^(?:` + pattern + `)`)
	if err != nil {
		return nil, err
	}
	tree, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	d := &detector{info: info, keywords: keywords, re: re, maxLen: maxLen, short: newShortForms(tree, anchor)}
	addContBytes(&d.cont, tree)
	d.contAll = true
	for _, ok := range d.cont {
		d.contAll = d.contAll && ok
	}
	return d, nil
}

// addContBytes marks every byte that a match of t may contain. Any rune
// outside ASCII marks all bytes >= 0x80, so a byte not marked is always a
// whole ASCII character.
func addContBytes(set *[256]bool, t *syntax.Regexp) {
	switch t.Op {
	case syntax.OpLiteral:
		for _, r := range t.Rune {
			addRuneRange(set, r, r, t.Flags&syntax.FoldCase != 0)
		}
	case syntax.OpCharClass:
		for i := 0; i+1 < len(t.Rune); i += 2 {
			addRuneRange(set, t.Rune[i], t.Rune[i+1], false)
		}
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		for c := range set {
			set[c] = c != '\n' || t.Op == syntax.OpAnyChar
		}
	}
	for _, sub := range t.Sub {
		addContBytes(set, sub)
	}
}

func addRuneRange(set *[256]bool, lo, hi rune, fold bool) {
	for r := lo; r <= hi && r < 0x80; r++ {
		set[r] = true
		if fold {
			set[lower(byte(r))] = true
			set[upperASCII(byte(r))] = true
		}
	}
	if hi >= 0x80 {
		for c := 0x80; c < 256; c++ {
			set[c] = true
		}
	}
}

func upperASCII(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// byteSet builds a set from the listed ranges, e.g. "AZaz09" plus singles.
func byteSet(ranges string, singles string) *[256]bool {
	var set [256]bool
	for i := 0; i+1 < len(ranges); i += 2 {
		for c := int(ranges[i]); c <= int(ranges[i+1]); c++ {
			set[c] = true
		}
	}
	for i := 0; i < len(singles); i++ {
		set[singles[i]] = true
	}
	return &set
}
