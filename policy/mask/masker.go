package mask

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"
)

const (
	defaultMaxHold      = 64 << 10
	defaultCacheEntries = 4096
	// minCachedLen: hashing short spans costs more than scanning them.
	minCachedLen = 256
)

// Masker masks text, request and response bodies and streams. It is safe
// for concurrent use.
type Masker struct {
	cfg    Config
	mu     sync.Mutex // serialises SetManaged
	engine atomic.Pointer[engineAndCache]
}

// engineAndCache pairs an engine with the cache of its results, so a
// change of the managed credential never serves results of the old engine.
type engineAndCache struct {
	e     *engine
	cache *lru.Cache[[32]byte, cached]
	clean atomic.Pointer[cleanSet]
}

// cleanSet remembers short texts no detector matched: header values and
// command-line arguments, the same few on every request, which are then not
// scanned again (a scan with cold caches costs microseconds per string; the
// lookup a hash). Bounded: a full set starts afresh, so a program sending
// ever new values costs itself scans, not memory.
type cleanSet struct {
	m sync.Map // string → struct{}
	n atomic.Int32
}

const cleanEntries = 4096

func (ec *engineAndCache) known(s string) bool {
	_, ok := ec.clean.Load().m.Load(s)
	return ok
}

func (ec *engineAndCache) remember(s string) {
	set := ec.clean.Load()
	if set.n.Add(1) > cleanEntries {
		ec.clean.CompareAndSwap(set, &cleanSet{})
		return
	}
	set.m.Store(strings.Clone(s), struct{}{}) // s may share a larger buffer
}

type cached struct {
	text   string
	counts map[string]int
}

// New builds a Masker; it fails on invalid custom patterns or names.
func New(cfg Config) (*Masker, error) {
	if cfg.MaxHold <= 0 {
		cfg.MaxHold = defaultMaxHold
	}
	if cfg.CacheEntries == 0 {
		cfg.CacheEntries = defaultCacheEntries
	}
	m := &Masker{cfg: cfg}
	if err := m.build(nil); err != nil {
		return nil, fmt.Errorf("building masker: %w", err)
	}
	return m, nil
}

func (m *Masker) build(managed []string) error {
	e, err := newEngine(m.cfg, managed)
	if err != nil {
		return err
	}
	ec := &engineAndCache{e: e}
	ec.clean.Store(&cleanSet{})
	if m.cfg.CacheEntries > 0 {
		ec.cache, _ = lru.New[[32]byte, cached](m.cfg.CacheEntries)
	}
	m.engine.Store(ec)
	return nil
}

// SetManaged sets the managed credential values (detector
// managed_credential). The values are never logged or returned.
func (m *Masker) SetManaged(values []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_ = m.build(append([]string(nil), values...)) // only config can fail, and New checked it
}

// Detectors lists the enabled detectors, sorted by name.
func (m *Masker) Detectors() []DetectorInfo { return m.engine.Load().e.infos() }

// Scope partitions the cache of masked texts: a text is served from the
// cache only to the scope that had it masked. A hit on a large text answers
// milliseconds sooner, so a shared cache would tell a process whether
// another caller had sent a text it guesses; the gateway gives each caller
// identity (user, cgroup, network namespace) a scope of its own. The
// Masker's own methods use the empty scope. The set of short clean texts
// (header values, arguments: a hit saves microseconds, and holds no match
// of any detector) is shared.
type Scope string

// Scoped masks with the cache lookups of one scope.
type Scoped struct {
	m     *Masker
	scope Scope
}

// For returns the Masker's methods within scope.
func (m *Masker) For(scope Scope) Scoped { return Scoped{m, scope} }

// Text masks s with the selected detectors.
func (m *Masker) Text(s string, sel Selection) (string, Result) { return m.For("").Text(s, sel) }

// Text is Masker.Text within the scope.
func (s Scoped) Text(text string, sel Selection) (string, Result) {
	return s.m.engine.Load().text(text, sel, s.scope)
}

// CacheLen is the number of masked texts cached, in all scopes (for tests and diagnostics).
func (m *Masker) CacheLen() int {
	if c := m.engine.Load().cache; c != nil {
		return c.Len()
	}
	return 0
}

func (ec *engineAndCache) text(s string, sel Selection, scope Scope) (string, Result) {
	short := sel == nil && len(s) < minCachedLen
	if short && ec.known(s) {
		return s, Result{}
	}
	active := ec.e.selection(sel)
	var out string
	var res Result
	if ec.e.fastPathAllowed(active) && ec.e.plainClean(s, active) {
		out = s // no keyword of a selected detector: nothing can match
	} else {
		out, res = ec.textActive(s, sel, active, nil, scope)
	}
	if short && res.Counts == nil && !res.Incomplete {
		ec.remember(s)
	}
	return out, res
}

// textActive is text with the selection already resolved to active; b
// (nil: none) bounds the work, and a result cut short by it is not cached
// (the caller checks b and discards it).
func (ec *engineAndCache) textActive(s string, sel Selection, active []bool, b *budget, scope Scope) (string, Result) {
	if ec.cache == nil || len(s) < minCachedLen {
		return ec.e.text(s, active, b)
	}
	key := digest(scope, s, sel)
	if c, ok := ec.cache.Get(key); ok {
		return c.text, Result{Counts: cloneCounts(c.counts)}
	}
	out, res := ec.e.text(s, active, b)
	if b.exceeded() {
		return out, res
	}
	ec.cache.Add(key, cached{out, cloneCounts(res.Counts)})
	if res.Counts != nil {
		// The client resends what it was given: the masked text. Masking
		// is idempotent (placeholders are kept), so the masked text maps
		// to itself with nothing counted, and the resent turn is a hit.
		ec.cache.Add(digest(scope, out, sel), cached{text: out})
	}
	return out, res
}

func (e *engine) text(s string, active []bool, b *budget) (string, Result) {
	sc := newScanner(e, active)
	sc.bud = b
	sc.buf = make([]byte, 0, len(s))
	sc.out = make([]byte, 0, len(s)+len(s)/8)
	sc.feedString(s)
	sc.advance(true)
	if sc.res.Counts == nil {
		return s, sc.res // nothing masked: the same string, no copy
	}
	return string(sc.take(true)), sc.res
}

func digest(scope Scope, s string, sel Selection) [32]byte {
	h := sha256.New()
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(scope)))
	h.Write(n[:]) // length first: no scope's bytes read as another's text
	h.Write([]byte(scope))
	if sel != nil {
		h.Write([]byte("sel:" + strings.Join(sel, ",") + "\x00"))
	}
	h.Write([]byte(s))
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

func cloneCounts(c map[string]int) map[string]int {
	if c == nil {
		return nil
	}
	out := make(map[string]int, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}
