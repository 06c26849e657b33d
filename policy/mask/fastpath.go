package mask

// The fast path: most bodies carry no secret. One pass of the keyword
// prefilter over the raw JSON bytes proves that no selected detector can
// match in any string the walker would decode, so the body passes without
// decoding, copying or scanning string by string.
//
// Why it is exact: with no keywordless detector selected, a match needs a
// keyword occurrence in a decoded string. A decoded string is the raw string
// with each escape replaced by one character; an occurrence containing no
// escaped character lies contiguously in the raw bytes, where the prefilter
// sees it. So every escape whose character could be part of a keyword (any
// \u escape of an ASCII character a keyword uses, \/ for URL keywords, ...)
// sends the body down the full path. Keywords with non-ASCII bytes disable
// the fast path (decoding may turn invalid UTF-8 into U+FFFD). Placeholders
// are ignored: their detector only ever keeps text as it is.

// fastPathInfo is what the engine precomputes for rawClean.
type fastPathInfo struct {
	kwByte   [256]bool // lower-cased bytes of every masking keyword
	highKw   []bool    // detector index → a keyword has a byte >= 0x80
	placeIdx int32     // the placeholder detector
}

func newFastPathInfo(e *engine) fastPathInfo {
	f := fastPathInfo{highKw: make([]bool, len(e.detectors)), placeIdx: int32(e.byName[placeholderName])}
	for k, kw := range e.kwValue {
		owner := e.kwOwner[k]
		if owner == f.placeIdx {
			continue
		}
		for i := 0; i < len(kw); i++ {
			f.kwByte[lower(kw[i])] = true
			f.highKw[owner] = f.highKw[owner] || kw[i] >= 0x80
		}
	}
	return f
}

// fastPathAllowed says whether the selection can use rawClean at all.
func (e *engine) fastPathAllowed(active []bool) bool {
	for _, i := range e.keywordless {
		if active[i] {
			return false
		}
	}
	for i, high := range e.fast.highKw {
		if high && active[i] {
			return false
		}
	}
	return true
}

// plainClean says whether plain text s contains no keyword of a selected
// detector (placeholders aside): then no detector can match in it.
func (e *engine) plainClean(s string, active []bool) bool {
	row := int32(0)
	for i := 0; i < len(s); i++ {
		var hit bool
		if row, hit = e.ac.step(row, s[i]); !hit {
			continue
		}
		for _, k := range e.ac.out[e.ac.stateOf(row)] {
			if owner := e.kwOwner[k]; owner != e.fast.placeIdx && active[owner] {
				return false
			}
		}
	}
	return true
}

// rawVerdict is what one pass over raw bytes found.
type rawVerdict int

const (
	rawDirty      rawVerdict = iota // a keyword or a disguising escape: mask fully
	rawClean                        // nothing any selected detector could match
	rawCleanIfKey                   // keywords only inside object keys: clean if the body is valid JSON
)

// scanRaw runs the prefilter over b, tracking JSON strings so that a
// keyword inside an object key ("max_tokens") can be told apart.
func (e *engine) scanRaw(b []byte, active []bool) rawVerdict {
	st := rawScan{e: e, active: active, verdict: rawClean}
	row := int32(0)
	for i := 0; i < len(b) && st.verdict != rawDirty; i++ {
		c := b[i]
		var hit bool
		if row, hit = e.ac.step(row, c); c == '"' || c == '\\' || st.escaped || hit {
			st.state = e.ac.stateOf(row)
			st.step(b, i) // the rare bytes: quotes, escapes, keyword ends
		}
	}
	if st.inStr && st.strHit {
		return rawDirty // a keyword in an unterminated string
	}
	return st.verdict
}

type rawScan struct {
	e        *engine
	active   []bool
	state    int32
	inStr    bool
	escaped  bool
	strStart int  // index of the opening quote
	strHit   bool // a keyword lies inside the current string
	verdict  rawVerdict
}

// step handles byte i, whose prefilter transition is already taken.
func (s *rawScan) step(b []byte, i int) {
	c := b[i]
	closing := s.inStr && !s.escaped && c == '"'
	switch {
	case s.escaped:
		s.escaped = false
	case s.inStr && c == '\\':
		s.escaped = true
		if escapeMayHideKeyword(b, i, &s.e.fast.kwByte) {
			s.verdict = rawDirty
		}
	}
	for _, k := range s.e.ac.out[s.state] {
		if s.hitMatters(k) {
			s.noteHit(i+1-int(s.e.ac.kwLen[k]), closing)
		}
	}
	s.quote(b, i, c, closing)
}

func (s *rawScan) hitMatters(k int32) bool {
	owner := s.e.kwOwner[k]
	return owner != s.e.fast.placeIdx && s.active[owner]
}

// noteHit records a keyword occurrence starting at start: inside a string
// it is judged when the string ends (key or value); elsewhere it is dirty.
func (s *rawScan) noteHit(start int, closing bool) {
	if s.inStr && !closing && start > s.strStart {
		s.strHit = true
		return
	}
	s.verdict = rawDirty
}

func (s *rawScan) quote(b []byte, i int, c byte, closing bool) {
	switch {
	case closing:
		s.inStr = false
		if s.strHit && !followedByColon(b, i+1) {
			s.verdict = rawDirty
		} else if s.strHit {
			s.verdict = rawCleanIfKey
		}
	case !s.inStr && c == '"':
		s.inStr, s.strStart, s.strHit = true, i, false
	}
}

func followedByColon(b []byte, i int) bool {
	i = skipSpace(b, i)
	return i < len(b) && b[i] == ':'
}

// escapeMayHideKeyword says whether the escape at b[i] ('\\') decodes to a
// character some keyword contains (ASCII case-insensitively), or is not an
// escape this check understands.
func escapeMayHideKeyword(b []byte, i int, kwByte *[256]bool) bool {
	if i+1 >= len(b) {
		return true
	}
	var c byte
	switch b[i+1] {
	case '"', '\\', '/':
		c = b[i+1]
	case 'b':
		c = '\b'
	case 'f':
		c = '\f'
	case 'n':
		c = '\n'
	case 'r':
		c = '\r'
	case 't':
		c = '\t'
	case 'u':
		cp, ok := hex4(b, i+2)
		if !ok {
			return true
		}
		if cp >= 0x80 {
			return false // non-ASCII: no keyword has such bytes on the fast path
		}
		c = byte(cp)
	default:
		return true
	}
	return kwByte[lower(c)]
}

func hex4(b []byte, i int) (int, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	v := 0
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
