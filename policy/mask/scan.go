package mask

import (
	"bytes"
	"hash"
	"unicode/utf8"
)

// scanner masks a text that may arrive in pieces. It decides position by
// position, left to right: at each position the longest match of any
// candidate detector starting there is replaced and the scan jumps past it;
// otherwise the byte is kept. A decision is taken only when the bytes it
// depends on (the byte before, and the window up to the first byte no match
// can contain, or maxLen on) are all present, or the text has ended. So the
// decisions, and the output, are the same however the text is split: the
// streaming masker and Text share this code and agree by construction.
type scanner struct {
	e      *engine
	active []bool
	buf    []byte // original bytes from absolute position base on
	base   int
	cur    int    // every position before cur is decided
	end    int    // absolute end of the bytes fed
	state  int32  // prefilter state after the last byte fed
	hits   []hit  // keyword occurrences at or after cur, sorted by start
	pend   []hit  // occurrences of windowed rules whose window has not run yet
	found  []span // secrets windowed rules found, sorted by start
	// keywordless are the active detectors without keywords.
	keywordless []*detector
	cands       []candidate   // reused by candidates
	lastWins    [4]windowMemo // the last windows run (window.go)
	nextWin     int
	mac         hash.Hash // placeholder HMAC, keyed once per scanner
	bud         *budget   // the request's masking budget (nil: none)
	inner       []bool    // active without the decoders (decode.go)
	runScans    [2]runScan
	lastDecoded decoded
	out         []byte
	res         Result
}

type hit struct {
	start int
	kw    int32
}

type match struct {
	det        int
	end        int // absolute end of the match
	vStart     int // the masked value: the whole match or group 1
	vEnd       int
	decided    bool
	isMatching bool
}

func newScanner(e *engine, active []bool) *scanner {
	s := &scanner{e: e, active: active}
	for _, i := range e.keywordless {
		if active[i] {
			s.keywordless = append(s.keywordless, e.detectors[i])
		}
	}
	return s
}

func (s *scanner) feed(p []byte) {
	s.bud.spend(len(p))
	s.buf = append(s.buf, p...)
	s.state = s.e.ac.feed(s.state, p, s.end, s.addHit)
	s.end += len(p)
}

func (s *scanner) addHit(start int, kw int32) {
	owner := s.e.kwOwner[kw]
	if !s.active[owner] || start < s.cur {
		return
	}
	if s.e.detectors[owner].win != nil {
		s.pend = append(s.pend, hit{start, kw})
		return
	}
	s.hits = append(s.hits, hit{start, kw})
	for i := len(s.hits) - 1; i > 0 && s.hits[i-1].start > start; i-- {
		s.hits[i-1], s.hits[i] = s.hits[i], s.hits[i-1]
	}
}

// feedString is feed for a string, without converting it first.
func (s *scanner) feedString(p string) {
	s.bud.spend(len(p))
	start := len(s.buf)
	s.buf = append(s.buf, p...)
	s.state = s.e.ac.feed(s.state, s.buf[start:], s.end, s.addHit)
	s.end += len(p)
}

// advance decides every position it can; final says the text has ended.
func (s *scanner) advance(final bool) {
	safe := s.end // positions from safe on may start a keyword not yet complete
	if !final {
		safe = s.holdFrom(safe - int(s.e.ac.depth[s.state]))
	}
	if waiting := s.runPending(final); waiting >= 0 {
		safe = min(safe, waiting-s.e.winBack)
	}
	for s.cur < safe && !s.bud.exceeded() {
		s.dropHits()
		s.dropSpans()
		if next := s.nextCandidate(safe); next > s.cur {
			s.keep(next)
			continue
		}
		m := s.decide(s.cur, safe, final, false)
		if !m.decided {
			break
		}
		s.apply(m)
	}
	s.trim()
}

// nextCandidate is the first position from cur on where a keyword starts
// or a keywordless detector may start (at most limit).
func (s *scanner) nextCandidate(limit int) int {
	next := s.nextHit(limit)
	if len(s.keywordless) == 0 {
		return next
	}
	for j := s.cur; j < next; j++ {
		prev, c := s.prevByte(j), s.buf[j-s.base]
		for _, d := range s.keywordless {
			if d.startAt(prev, c) {
				return j
			}
		}
	}
	return next
}

func (s *scanner) nextHit(limit int) int {
	if len(s.hits) > 0 && s.hits[0].start < limit {
		limit = s.hits[0].start
	}
	if len(s.found) > 0 && s.found[0].vs < limit {
		limit = s.found[0].vs
	}
	return limit
}

func (s *scanner) dropHits() {
	n := 0
	for n < len(s.hits) && s.hits[n].start < s.cur {
		n++
	}
	s.hits = s.hits[n:]
}

// keep copies original bytes up to the absolute position to unchanged.
func (s *scanner) keep(to int) {
	s.out = append(s.out, s.buf[s.cur-s.base:to-s.base]...)
	s.cur = to
}

func (s *scanner) apply(m match) {
	if !m.isMatching {
		s.keep(s.cur + 1)
		return
	}
	d := s.e.detectors[m.det]
	if d.info.Name == placeholderName {
		s.keep(m.end)
		return
	}
	s.keep(m.vStart)
	if s.mac == nil {
		s.mac = s.e.newMAC()
	}
	s.out = appendPlaceholder(s.out, s.mac, s.e.tags[m.det], s.buf[m.vStart-s.base:m.vEnd-s.base])
	s.cur = m.end
	if s.res.Counts == nil {
		s.res.Counts = map[string]int{}
	}
	s.res.Counts[d.info.Name]++
}

// trim forgets bytes before cur, keeping one byte of left context and the
// windows of windowed occurrences still to run (one may lie inside a match
// that already moved cur past it).
func (s *scanner) trim() {
	keep := s.cur - 1 - max(s.e.winBack, maxNamePrefix) // context: windows to come, names
	for _, h := range s.pend {
		keep = min(keep, h.start-s.e.winBack)
	}
	for _, sp := range s.found {
		keep = min(keep, sp.wl) // its allow-lists still to run
	}
	if drop := keep - s.base; drop > 0 {
		s.buf = append(s.buf[:0], s.buf[drop:]...)
		s.base += drop
	}
}

// take returns the decided output; unless final, it keeps back the bytes
// of a rune that is not complete yet so every piece is valid UTF-8.
func (s *scanner) take(final bool) []byte {
	cut := len(s.out)
	if !final {
		cut = completeRunes(s.out)
	}
	out := bytes.Clone(s.out[:cut])
	s.out = append(s.out[:0], s.out[cut:]...)
	return out
}

func completeRunes(p []byte) int {
	for back := 1; back <= utf8.UTFMax && back <= len(p); back++ {
		if i := len(p) - back; utf8.RuneStart(p[i]) {
			if utf8.FullRune(p[i:]) {
				return len(p)
			}
			return i
		}
	}
	return len(p)
}

// held is how many input bytes wait for a decision.
func (s *scanner) held() int { return s.end - s.cur }

// flushRaw gives up on the undecided bytes: they pass unmasked.
func (s *scanner) flushRaw() {
	s.keep(s.end)
	s.hits, s.pend, s.found = s.hits[:0], s.pend[:0], s.found[:0]
	s.res.Incomplete = true
	s.trim()
}

type candidate struct {
	det  int
	kw   int32 // keyword of an exact detector, -1 otherwise
	span int   // 1 + index in found of a windowed rule's secret, 0 otherwise
}

func (s *scanner) candidates(i int) []candidate {
	out := s.cands[:0]
	for _, h := range s.hits {
		if h.start < i {
			continue
		}
		if h.start > i {
			break
		}
		out = append(out, candidate{det: int(s.e.kwOwner[h.kw]), kw: h.kw})
	}
	for k := 0; k < len(s.found) && s.found[k].vs <= i; k++ {
		if s.found[k].vs == i {
			out = append(out, candidate{det: s.found[k].det, kw: -1, span: k + 1})
		}
	}
	prev, c := s.prevByte(i), s.buf[i-s.base]
	for _, d := range s.e.keywordless {
		if s.active[d] && s.e.detectors[d].startAt(prev, c) {
			out = append(out, candidate{det: d, kw: -1})
		}
	}
	for a := 1; a < len(out); a++ { // insertion sort: a handful, stable
		for b := a; b > 0 && out[b-1].det > out[b].det; b-- {
			out[b-1], out[b] = out[b], out[b-1]
		}
	}
	s.cands = out
	return out
}

func (s *scanner) prevByte(i int) int {
	if i == 0 {
		return -1
	}
	return int(s.buf[i-1-s.base])
}

// decide picks the longest decided match at i; ties go to the detector
// listed first. If any candidate cannot decide yet, nothing is decided.
func (s *scanner) decide(i, safe int, final, inValue bool) match {
	best := match{decided: true}
	for _, c := range s.candidates(i) {
		if inValue && s.e.detectors[c.det].deferToValue {
			continue
		}
		if c.span > 0 && best.isMatching && s.found[c.span-1].ve <= best.end {
			continue // cannot win (ties go to the detector listed first): spare its allow-lists
		}
		if best.isMatching && s.cannotOutrun(c, i, best.end, final) {
			continue // its match would end within the best one: spare its regexp
		}
		m := s.try(c, i, final)
		if !m.decided {
			return m
		}
		if m.isMatching && (!best.isMatching || m.end > best.end) {
			best = m
		}
	}
	if best.isMatching && s.e.detectors[best.det].deferToValue {
		return s.preferValueMatch(best, safe, final)
	}
	return best
}

// preferValueMatch lets a specific detector (or a placeholder) that matches
// the value of an assignment win over the generic assignment detector, so
// API_KEY=sk-ant-... is named for what it is.
func (s *scanner) preferValueMatch(m match, safe int, final bool) match {
	if m.vStart >= safe {
		return match{} // a keyword may still be arriving at the value
	}
	sub := s.decide(m.vStart, safe, final, true)
	if !sub.decided {
		return sub
	}
	if sub.isMatching && !s.e.detectors[sub.det].assignmentRule() {
		return sub // an assignment-shaped rule is no more specific than m
	}
	return m
}

func (d *detector) assignmentRule() bool {
	return d.win != nil && (d.win.secretAfter || d.info.Confidence != "high")
}
