package mask

import (
	"regexp"
	"slices"
)

// Windowed rules (gitleaks' rule shape). A gitleaks rule is an unanchored
// regular expression whose secret may start before, at or after the keyword
// that triggers it (`[\w.-]{0,50}?(?:token)...=...(secret)`). Such a rule
// runs once per keyword occurrence, on a fixed window around it: back bytes
// before the keyword and fwd bytes after its end, clipped to the text. The
// window depends only on the occurrence's position and the text, never on
// how the text arrived, so a stream finds exactly the spans Text finds. A
// found span competes with the anchored detectors at its start position
// like any other match (longest wins, then the detector listed first).
//
// For the stream this means: a position x may be decided only when every
// occurrence that could yield a span starting at x has run, i.e. every
// occurrence at or before x+back whose window is complete. Positions within
// back bytes of the end (plus the prefilter depth) stay undecided until more
// text or the end of the block arrives.

// winRule is the windowed part of a detector.
type winRule struct {
	re          *regexp.Regexp // unanchored, as the rule set wrote it
	short       shortForms     // re for short windows (short_regexp.go)
	secretGroup int            // 0 = the first non-empty group, else the whole match
	entropy     float64        // the secret's Shannon entropy must exceed this (0 = no check)
	back, fwd   int            // window around the keyword occurrence
	pre         *[256]bool     // bytes a match may hold before its keyword
	// secretAfter: the secret follows the keyword (assignment rules), so
	// the bytes before a keyword never need holding back for this rule.
	secretAfter bool
	allowed     func(secret, match, line string) bool
	allowlists  []*allowlist // what allowed applies (global lists first)
	// allowedRegex is allowed without the stop words (for Airlock's own
	// assignment detector, whose test values say FAKE).
	allowedRegex func(secret, match, line string) bool
	// quickReject, on the bytes after the keyword, says that no match can
	// use this occurrence (monotone, like detector.quickReject).
	quickReject func(after []byte) bool
	// end, on the bytes after the keyword, says where the window ends (at
	// most fwd) once the bytes present decide it. nil: fwd bytes on.
	end func(after []byte) (int, bool)
	// after rejects an occurrence that cannot be a match's keyword
	// (window_after.go); nil = run every window.
	after *afterCheck
	// decode, for a decoder (decode.go), replaces the regexp: it finds the
	// encoded secret of an occurrence itself.
	decode decodeFunc
	// hold, for a decoder, is holdFrom for its spans: the first position
	// before x that may still become the start of one (x if none).
	hold func(s *scanner, x int) int
	run  *[256]bool // a decoder's run bytes: its window ends after the run
	// prefix, for a rule that starts with a lazy name run, finds matches
	// without running that run (window_after.go); nil = the whole regexp.
	prefix *namePrefix
	// lazy, for a rule with a lazy any-rune body (private keys), finds
	// its matches without the NFA over the whole window (lazy_body.go).
	lazy *lazyBody
}

// windowEnd is where the window of the occurrence ending at ke ends, if
// the bytes fed so far (or the end of the text) decide it.
func (s *scanner) windowEnd(w *winRule, ke int, final bool) (int, bool) {
	if w.run != nil {
		return s.decoderWindowEnd(w, ke, final)
	}
	if w.end != nil {
		after := s.buf[ke-s.base : min(s.end, ke+w.fwd)-s.base]
		if n, ok := w.end(after); ok {
			return ke + min(n, w.fwd), true
		}
	}
	if final || ke+w.fwd <= s.end {
		return min(ke+w.fwd, s.end), true
	}
	return 0, false
}

// span is a secret a windowed rule found: [vs, ve) absolute.
// The allow-lists run lazily, only for a span that is a candidate at the
// scan position (most spans lose to a longer match first): sv, sw is the
// secret before quote trimming and extension, ml, mh the match, wl, wh the
// window; state 0 = not checked, 1 = allowed (dropped), 2 = kept.
type span struct {
	det            int
	vs, ve         int
	sv, sw, ml, mh int
	wl, wh         int
	state          uint8
}

// maxWinBack bounds how far before its keyword a windowed secret may start:
// what a stream holds back beyond the prefilter depth.
const maxWinBack = 128

// maxWinFwd bounds the window after the keyword for unbounded patterns.
const maxWinFwd = 1024

// runPending runs the windowed occurrences whose window is complete (all of
// them at the end of the text) and returns the earliest start of one that
// still waits (or -1).
func (s *scanner) runPending(final bool) int {
	waiting, n := -1, 0
	for _, h := range s.pend {
		if s.bud.exceeded() {
			break // the request fails; what is left does not matter
		}
		d := s.e.detectors[s.e.kwOwner[h.kw]]
		kwEnd := h.start + int(s.e.ac.kwLen[h.kw])
		if d.win.quickReject != nil && kwEnd <= s.end && d.win.quickReject(s.buf[kwEnd-s.base:]) {
			continue // monotone: the full window would say the same
		}
		hi, ok := s.windowEnd(d.win, kwEnd, final)
		if !ok {
			s.pend[n] = h
			n++
			if waiting < 0 || h.start < waiting {
				waiting = h.start
			}
			continue
		}
		s.runWindow(int(s.e.kwOwner[h.kw]), h.start, kwEnd, hi)
	}
	s.pend = s.pend[:n]
	return waiting
}

// runWindow runs detector det on the window around the keyword [ks, ke):
// from one byte (of context) before the run of the rule's pre-keyword bytes
// that precedes the keyword, to fwd bytes after it. Both ends depend only on
// the text, so Text and a stream see the same window.
func (s *scanner) runWindow(det, ks, ke, hi int) {
	w := s.e.detectors[det].win
	runStart := ks
	for runStart > max(ks-w.back, s.base) && w.pre[s.buf[runStart-1-s.base]] {
		runStart--
	}
	lo := max(runStart-1, s.base)
	if w.decode != nil {
		if vs, ve, ok := w.decode(s, det, runStart, ks, ke, hi); ok {
			s.addSpan(span{det: det, vs: vs, ve: ve, sv: vs, sw: ve, ml: vs, mh: ve, wl: lo, wh: hi})
		}
		return
	}
	if w.quickReject != nil && w.quickReject(s.buf[ke-s.base:hi-s.base]) {
		return
	}
	if w.after != nil && !w.after.mayMatch(s.buf, ks-s.base, hi-s.base) {
		return
	}
	win := s.buf[lo-s.base : hi-s.base]
	for _, loc := range s.windowMatches(det, lo, hi, ks, ke) {
		if lo+loc[1] <= ks || lo+loc[0] >= ke {
			continue // another occurrence's match (it runs on its own)
		}
		vs, ve := secretBounds(w, loc)
		if vs >= ve || lo+vs < runStart || w.secretAfter && lo+vs < ks || w.entropy > 0 && entropyAtMost(win[vs:ve], w.entropy) {
			continue
		}
		sp := span{det: det, sv: lo + vs, sw: lo + ve, ml: lo + loc[0], mh: lo + loc[1], wl: lo, wh: hi}
		if ve-vs >= 2 && (win[vs] == '"' || win[vs] == '\'') && win[ve-1] == win[vs] {
			vs, ve = vs+1, ve-1 // the value, not its quotes
		}
		sp.vs, sp.ve = lo+vs, lo+wholeValueEnd(win, vs, ve)
		s.addSpan(sp)
	}
}

// windowMatches returns the matches of det's regexp on the window
// [lo, hi) that may overlap the occurrence [ks, ke). Non-overlapping
// matches can share no byte, so at most one holds all of the occurrence:
// the first match usually settles it, and the search stops there instead
// of scanning the rest of the window (a PEM rule's window is 1 KiB).
// Occurrences of several keywords in one name (aws_secret_access_key)
// share their window: a recent identical window's result is reused.
func (s *scanner) windowMatches(det, lo, hi, ks, ke int) [][]int {
	if w := s.e.detectors[det].win; w.lazy != nil {
		if locs, ok := w.lazy.find(s.buf[lo-s.base:hi-s.base], ke-lo); ok {
			s.bud.spend(hi - lo)
			return locs // the matches that may overlap the occurrence: no memo
		}
	}
	for _, m := range s.lastWins {
		if m.det == det && m.lo == lo && m.hi == hi && m.ok && m.settles(ke) {
			return m.locs
		}
	}
	w, win := s.e.detectors[det].win, s.buf[lo-s.base:hi-s.base]
	s.bud.spend(len(win))
	m := windowMemo{det: det, lo: lo, hi: hi, ok: true, locs: w.find(win, 1)}
	if !m.settles(ke) {
		m.locs, m.all = w.find(win, -1), true
	}
	s.lastWins[s.nextWin%len(s.lastWins)] = m
	s.nextWin++
	return m.locs
}

// find runs the rule on a window: through its name prefix's core when it
// has one and the window is ASCII (the walk back counts bytes as runes).
func (w *winRule) find(win []byte, n int) [][]int {
	if w.prefix != nil && isASCII(win) {
		return w.prefix.find(win, n)
	}
	return w.short.pick(w.re, len(win)).FindAllSubmatchIndex(win, n)
}

// windowMemo is a window a rule ran on and its matches (all of them, or
// only the first).
type windowMemo struct {
	det, lo, hi int
	locs        [][]int
	ok, all     bool
}

// settles says whether the matches found decide the occurrence [ks, ke):
// all of them are known, or there are none, or the first one ends at or
// after ke (any later one starts after the occurrence).
func (m *windowMemo) settles(ke int) bool {
	return m.all || len(m.locs) == 0 || m.lo+m.locs[0][1] >= ke
}

// secretBounds picks the secret within a match the way gitleaks does: the
// configured group, else the first non-empty group, else the whole match.
func secretBounds(w *winRule, loc []int) (int, int) {
	if g := w.secretGroup; g > 0 && 2*g+1 < len(loc) {
		return loc[2*g], loc[2*g+1]
	}
	for g := 1; 2*g+1 < len(loc); g++ {
		if loc[2*g] >= 0 && loc[2*g+1] > loc[2*g] {
			return loc[2*g], loc[2*g+1]
		}
	}
	return loc[0], loc[1]
}

// spanKept runs the rule's allow-lists on span k once (the window's bytes
// are still buffered: trim keeps every found span's window).
func (s *scanner) spanKept(k int) bool {
	sp := &s.found[k]
	if sp.state == 0 {
		sp.state = 2
		if w := s.e.detectors[sp.det].win; w.allowed != nil {
			win := s.buf[sp.wl-s.base : sp.wh-s.base]
			ls, le := lineAround(win, sp.ml-sp.wl, sp.mh-sp.wl)
			if w.allowed(string(s.buf[sp.sv-s.base:sp.sw-s.base]), string(s.buf[sp.ml-s.base:sp.mh-s.base]), string(win[ls:le])) {
				sp.state = 1
			}
		}
	}
	return sp.state == 2
}

// wholeValueEnd extends a secret that stops inside a run of token bytes
// to the end of that run (within the window): a value longer than the
// rule's bound is masked whole, never only in its first part.
func wholeValueEnd(win []byte, vs, ve int) int {
	if ve == 0 || ve >= len(win) || !tokenByte[win[ve-1]] {
		return ve
	}
	for ve < len(win) && tokenByte[win[ve]] {
		ve++
	}
	return ve
}

var tokenByte = byteSet("AZaz09", "_-+/=")

// holdFrom is the first position that a windowed occurrence not seen yet
// (starting at or after x) could still make the start of a secret: the
// trailing run before x of bytes some rule allows before its keyword.
func (s *scanner) holdFrom(x int) int {
	from := x
	for _, p := range s.e.preSets {
		j := x
		for j > s.cur && x-j < p.back && p.set[s.buf[j-1-s.base]] {
			j--
		}
		from = min(from, j)
	}
	for _, w := range s.e.holders {
		from = min(from, w.hold(s, x))
	}
	return from
}

// preSet is one distinct preKeywordSet with the longest back reach of the
// rules that share it.
type preSet struct {
	set  *[256]bool
	back int
}

func collectPreSets(dets []*detector) []preSet {
	var out []preSet
	for _, d := range dets {
		if d.win == nil || d.win.secretAfter || d.win.hold != nil {
			continue
		}
		k := slices.IndexFunc(out, func(p preSet) bool { return *p.set == *d.win.pre })
		if k < 0 {
			out = append(out, preSet{set: d.win.pre})
			k = len(out) - 1
		}
		out[k].back = max(out[k].back, d.win.back)
	}
	return out
}

func lineAround(b []byte, from, to int) (int, int) {
	for from > 0 && b[from-1] != '\n' {
		from--
	}
	for to < len(b) && b[to] != '\n' {
		to++
	}
	return from, to
}

// addSpan inserts sp in start order (spans arrive nearly sorted).
func (s *scanner) addSpan(sp span) {
	s.found = append(s.found, sp)
	for i := len(s.found) - 1; i > 0 && s.found[i-1].vs > sp.vs; i-- {
		s.found[i-1], s.found[i] = s.found[i], s.found[i-1]
	}
}

// dropSpans forgets spans that start before cur (overlapped by a match).
func (s *scanner) dropSpans() {
	n := 0
	for n < len(s.found) && s.found[n].vs < s.cur {
		n++
	}
	s.found = s.found[n:]
}
