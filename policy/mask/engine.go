package mask

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"regexp"
	"sort"
	"strings"
)

const placeholderName = "placeholder"

// engine is an immutable set of detectors with their prefilter. The Masker
// swaps in a new engine when the managed credential changes, so a stream or
// a request is masked by one consistent engine from start to end.
type engine struct {
	detectors   []*detector
	byName      map[string]int
	tags        []string // each detector's name as its placeholders write it
	ac          *acMatcher
	kwOwner     []int32 // keyword index → detector index
	kwValue     []string
	keywordless []int // detectors that run at every position their startAt allows
	key         []byte
	fast        fastPathInfo
	all         []bool // the nil selection, shared (active sets are read-only)
	winBack     int    // the longest back reach of a windowed rule
	preSets     []preSet
	holders     []*winRule // decoders, which say themselves what a stream holds
	// prefilterBytes is what each detector's keywords add to the
	// prefilter (states they created, at the row size of the automaton).
	prefilterBytes []int
}

// defaultMaxPrefilter bounds the prefilter: the full rule set takes about
// 0.1 MiB; a literal list of ~100,000 values of 40 bytes would pass it.
const defaultMaxPrefilter = 64 << 20

func newEngine(cfg Config, managed []string) (*engine, error) {
	dets, err := ruleDetectors(cfg)
	if err != nil {
		return nil, err
	}
	extra, err := configDetectors(cfg, managed)
	if err != nil {
		return nil, err
	}
	dets = append(append([]*detector{placeholderDetector()}, extra...), dets...)
	e := &engine{detectors: dets, byName: map[string]int{}, key: cfg.Key}
	for i, d := range dets {
		if d.win != nil {
			e.winBack = max(e.winBack, d.win.back)
		}
		if _, dup := e.byName[d.info.Name]; dup {
			return nil, fmt.Errorf("detector name %q used twice", d.info.Name)
		}
		e.byName[d.info.Name] = i
		e.tags = append(e.tags, placeholderTag(d.info.Name))
		if len(d.keywords) == 0 && !d.exact {
			e.keywordless = append(e.keywordless, i)
		}
		for _, kw := range d.keywords {
			e.kwOwner = append(e.kwOwner, int32(i))
			e.kwValue = append(e.kwValue, kw)
		}
	}
	e.preSets = collectPreSets(dets)
	for _, d := range dets {
		if d.win != nil && d.win.hold != nil {
			e.holders = append(e.holders, d.win)
		}
	}
	e.ac = newACMatcher(e.kwValue)
	if err := e.accountPrefilter(cfg.MaxPrefilterBytes); err != nil {
		return nil, err
	}
	e.fast = newFastPathInfo(e)
	e.all = e.resolve(nil)
	return e, nil
}

// accountPrefilter attributes the prefilter's size to detectors and
// refuses a configuration whose prefilter exceeds the bound (0: default),
// naming the detector that takes the most.
func (e *engine) accountPrefilter(limit int) error {
	if limit <= 0 {
		limit = defaultMaxPrefilter
	}
	e.prefilterBytes = make([]int, len(e.detectors))
	for k, owner := range e.kwOwner {
		e.prefilterBytes[owner] += e.ac.keywordBytes(k)
	}
	if total := e.ac.bytes(); total > limit {
		big := 0
		for i, n := range e.prefilterBytes {
			if n > e.prefilterBytes[big] {
				big = i
			}
		}
		return fmt.Errorf("%w: %d KiB, above the bound of %d KiB; detector %q alone takes %d KiB "+
			"(shorten its list of values, or raise masking.max_prefilter)",
			ErrPrefilterTooLarge, total>>10, limit>>10, e.detectors[big].info.Name, e.prefilterBytes[big]>>10)
	}
	return nil
}

// ErrPrefilterTooLarge: the detectors' keywords and literal values would
// make the keyword prefilter larger than Config.MaxPrefilterBytes.
var ErrPrefilterTooLarge = errors.New("masking prefilter too large")

// placeholderDetector recognises placeholders this package wrote, so that
// masking already-masked text (a client resending the conversation) leaves
// it byte-identical instead of masking parts of a placeholder again.
func placeholderDetector() *detector {
	d, err := newRegexDetector(DetectorInfo{Name: placeholderName}, `\[REDACTED:[a-z0-9_-]{1,64}:[0-9a-f]{6}\]`, 84, "[REDACTED:")
	if err != nil {
		panic(err) // a constant pattern
	}
	return d
}

// configDetectors builds the managed-credential, literal and custom
// detectors. Managed and literal ones come first: an exact value is the
// most certain match.
func configDetectors(cfg Config, managed []string) ([]*detector, error) {
	out := []*detector{exactDetector(ManagedCredential, "high", KindCredential, managed)}
	out[0].info.Tags, out[0].info.Source = []string{"builtin", "managed"}, "builtin"

	for _, l := range cfg.Literals {
		if l.Name == "" {
			return nil, fmt.Errorf("literal list without a name")
		}
		out = append(out, exactDetector(l.Name, "high", KindCustom, l.Values))
	}
	for _, c := range cfg.Custom {
		d, err := customDetector(c)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func exactDetector(name, confidence, kind string, values []string) *detector {
	d := &detector{info: DetectorInfo{Name: name, Confidence: confidence, Kind: kind, Source: "config"}, exact: true}
	for _, v := range values {
		if v != "" {
			d.keywords = append(d.keywords, v)
		}
	}
	return d
}

// customMaxLen bounds a configured pattern's match: the window a decision
// looks at, and so the most a stream holds back for it.
const customMaxLen = 1024

func customDetector(c Custom) (*detector, error) {
	if c.Name == "" || !regexp.MustCompile(`^[a-z0-9_]{1,64}$`).MatchString(c.Name) {
		return nil, fmt.Errorf("custom detector name %q: want 1-64 of [a-z0-9_]", c.Name)
	}
	conf := c.Confidence
	if conf == "" {
		conf = "medium"
	}
	d, err := newRegexDetector(DetectorInfo{Name: c.Name, Confidence: conf, Kind: KindCustom, Source: "config"}, c.Pattern, customMaxLen, c.Keywords...)
	if err != nil {
		return nil, fmt.Errorf("compiling custom detector %s: %w", c.Name, err)
	}
	if len(c.Keywords) == 0 {
		d.startAt = func(prev int, b byte) bool { return d.cont[b] }
	}
	return d, nil
}

// selection resolves names to an active set; nil selects every detector.
// The managed credential and the placeholder guard always run. The result
// is read-only.
func (e *engine) selection(sel Selection) []bool {
	if sel == nil && e.all != nil {
		return e.all
	}
	return e.resolve(sel)
}

func (e *engine) resolve(sel Selection) []bool {
	active := make([]bool, len(e.detectors))
	for i := range active {
		active[i] = sel == nil
	}
	for _, name := range sel {
		if i, ok := e.byName[name]; ok {
			active[i] = true
		}
	}
	active[e.byName[placeholderName]] = true
	active[e.byName[ManagedCredential]] = true
	return active
}

// appendPlaceholder appends the masked form of value, for the detector
// whose placeholder tag is tag; mac is the caller's HMAC-SHA256 keyed with
// e.key (reused: keying it is the costly part). It builds the text in
// place: this runs once per secret masked.
func appendPlaceholder(dst []byte, mac hash.Hash, tag string, value []byte) []byte {
	mac.Reset()
	mac.Write(value)
	var sum [sha256.Size]byte
	dst = append(dst, "[REDACTED:"...)
	dst = append(dst, tag...)
	dst = append(dst, ':')
	dst = hex.AppendEncode(dst, mac.Sum(sum[:0])[:3])
	return append(dst, ']')
}

// placeholderTag is name as the placeholder guard reads it back: at most
// 64 of [a-z0-9_-] (rule ids from a rules file may use other bytes).
func placeholderTag(name string) string {
	b := []byte(strings.ToLower(name))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b[:min(len(b), 64)])
}

func (e *engine) newMAC() hash.Hash { return hmac.New(sha256.New, e.key) }

func (e *engine) infos() []DetectorInfo {
	var out []DetectorInfo
	for _, d := range e.detectors {
		if d.info.Name != placeholderName {
			out = append(out, d.info)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.Compare(out[i].Name, out[j].Name) < 0 })
	return out
}
