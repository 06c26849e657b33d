package mask

import "bytes"

// try runs one candidate detector at absolute position i.
func (s *scanner) try(c candidate, i int, final bool) match {
	d := s.e.detectors[c.det]
	if d.exact {
		return s.tryExact(c, i)
	}
	if c.span > 0 {
		if !s.spanKept(c.span - 1) {
			return match{decided: true}
		}
		sp := s.found[c.span-1]
		return match{det: sp.det, end: sp.ve, vStart: sp.vs, vEnd: sp.ve, decided: true, isMatching: true}
	}
	rel := i - s.base
	if prev := s.prevByte(i); d.leftBound && prev >= 0 && isWordByte(byte(prev)) {
		return match{decided: true}
	}
	if d.quickReject != nil && d.quickReject(s.buf[rel:]) {
		return match{decided: true}
	}
	j := s.runEnd(d, rel)
	if d.earlyMatch && j > rel+earlyProbe {
		// Sound for the same reason as earlyMatch in a partial window: the
		// first complete match in a prefix is the match of the whole window.
		if m := s.runRegex(c.det, i, s.buf[rel:rel+earlyProbe]); m.isMatching {
			return m
		}
	}
	if j == len(s.buf) && !final {
		if d.earlyMatch {
			if m := s.runRegex(c.det, i, s.buf[rel:]); m.isMatching {
				return m
			}
		}
		return match{} // the window is not complete yet
	}
	return s.runRegex(c.det, i, s.buf[rel:min(len(s.buf), j+1)])
}

// cannotOutrun: c's match at i, if any, ends at or before end.
func (s *scanner) cannotOutrun(c candidate, i, end int, final bool) bool {
	bound, ok := s.matchBound(c, i, final)
	return ok && bound <= end
}

// matchBound is where a match of an anchored candidate at i ends at the
// latest, once the bytes present decide it (ok false: not yet known, or
// not an anchored candidate). The match holds only bytes the detector's
// pattern may contain, so it ends by the run of them that runEnd finds
// (one byte on when the run stopped at maxLen: try's window has it).
func (s *scanner) matchBound(c candidate, i int, final bool) (int, bool) {
	d := s.e.detectors[c.det]
	switch {
	case d.exact:
		return i + len(s.e.kwValue[c.kw]), true
	case c.span > 0 || d.win != nil:
		return 0, false
	}
	rel := i - s.base
	j := s.runEnd(d, rel)
	if j == len(s.buf) {
		return s.base + j, final
	}
	if !d.cont[s.buf[j]] {
		return s.base + j, true
	}
	return s.base + j + 1, true
}

// earlyProbe is the prefix an earlyMatch detector tries first: most PEM
// keys fit, and a smaller window keeps the regexp on its fast engine.
const earlyProbe = 4 << 10

// runEnd is where the window's run of bytes a match may contain ends.
func (s *scanner) runEnd(d *detector, rel int) int {
	j := min(len(s.buf), rel+d.maxLen)
	if !d.contAll {
		j = rel
		for j < len(s.buf) && j-rel < d.maxLen && d.cont[s.buf[j]] {
			j++
		}
	}
	if d.reach != nil {
		j = rel + d.reach(s.buf[rel:j])
	}
	return j
}

// tryExact matches a literal value case-sensitively; the prefilter found
// it case-insensitively and the whole keyword is already present.
func (s *scanner) tryExact(c candidate, i int) match {
	v := s.e.kwValue[c.kw]
	rel := i - s.base
	if !bytes.HasPrefix(s.buf[rel:], []byte(v)) {
		return match{decided: true}
	}
	end := i + len(v)
	return match{det: c.det, end: end, vStart: i, vEnd: end, decided: true, isMatching: true}
}

// runRegex matches the anchored pattern on window, which starts at i.
func (s *scanner) runRegex(det, i int, window []byte) match {
	d := s.e.detectors[det]
	s.bud.spend(len(window))
	none := match{decided: true}
	if d.needByte != 0 && bytes.IndexByte(window, d.needByte) < 0 {
		return none
	}
	loc := d.short.pick(d.re, len(window)).FindSubmatchIndex(window)
	if loc == nil || loc[1] == 0 {
		return none
	}
	if d.notFollowed != nil && loc[1] < len(window) && d.notFollowed[window[loc[1]]] {
		return none
	}
	vs, ve := loc[0], loc[1]
	if len(loc) >= 4 && loc[2] >= 0 {
		vs, ve = loc[2], loc[3]
	}
	if !s.valueAccepted(d, i, window, loc, vs, ve) {
		return none
	}
	return match{det: det, end: i + loc[1], vStart: i + vs, vEnd: i + ve, decided: true, isMatching: true}
}

// valueAccepted runs the detector's checks on a match's value (one copy
// of it for all of them).
func (s *scanner) valueAccepted(d *detector, i int, window []byte, loc []int, vs, ve int) bool {
	if d.validate == nil && d.validateMatch == nil && d.twin == nil {
		return true
	}
	v := string(window[vs:ve])
	switch {
	case d.validate != nil && !d.validate(v):
		return false
	case d.validateMatch != nil && !d.validateMatch(string(s.namePrefix(i))+string(window[loc[0]:loc[1]]), v):
		return false
	}
	return d.twin == nil || d.twin(v)
}

// maxNamePrefix is how far back the name an assignment's keyword ends may
// start (gitleaks' [\w.-]{0,50}? before the keyword); trim keeps it.
const maxNamePrefix = 50

// namePrefix is the run of name bytes right before i (keyVaultToStore in
// keyVaultToStoreSecrets), for allow-lists that read the whole name.
func (s *scanner) namePrefix(i int) []byte {
	j := i
	for j > max(s.base, i-maxNamePrefix) && assignmentName[s.buf[j-1-s.base]] {
		j--
	}
	return s.buf[j-s.base : i-s.base]
}
