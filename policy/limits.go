package policy

import (
	"strconv"
	"sync"
	"time"

	"github.com/airlock-dev/airlock/caller"
)

// State holds rate-limit windows and daily budgets in memory, keyed by rule
// and caller. It outlives an Engine: pass the previous engine's State to the
// next Compile so a reload does not hand every caller a fresh allowance.
type State struct {
	mu        sync.Mutex
	windows   map[string]*window
	nextSweep time.Time
}

// sweepEvery bounds how often current walks every window to evict the ended
// ones: callers come and go (a uid per CI job, a pid per run), and their
// windows must not outlive them.
const sweepEvery = time.Minute

// NewState returns empty limit state.
func NewState() *State { return &State{windows: map[string]*window{}} }

type window struct {
	start    time.Time
	end      time.Time
	requests int64
	tokens   int64
}

// limitSet is one rule's rate limit and budget.
type limitSet struct {
	rule   string
	rate   *rateSpec
	budget *budgetSpec
	state  *State
}

// limitHit says which limit stopped a request and when to come back.
type limitHit struct {
	what       string
	retryAfter time.Duration
}

// current returns the window for key, starting a new one when the last ended.
func (s *State) current(key string, start time.Time, length time.Duration, now time.Time) *window {
	s.sweep(now)
	w := s.windows[key]
	if w == nil || !now.Before(w.end) {
		w = &window{start: start, end: start.Add(length)}
		s.windows[key] = w
	}
	return w
}

// sweep evicts the windows that have ended, at most once per sweepEvery: an
// ended window counts nothing, so dropping it changes no decision.
func (s *State) sweep(now time.Time) {
	if now.Before(s.nextSweep) {
		return
	}
	s.nextSweep = now.Add(sweepEvery)
	for k, w := range s.windows {
		if !now.Before(w.end) {
			delete(s.windows, k)
		}
	}
}

// size is how many windows the state holds.
func (s *State) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.windows)
}

// admit checks the caller's limits and, when admitted, counts the request.
func (l *limitSet) admit(p *caller.Process, now time.Time) *limitHit {
	l.state.mu.Lock()
	defer l.state.mu.Unlock()
	var rw *window
	if r := l.rate; r != nil {
		rw = l.state.current(l.rateKey(p), now, r.Window, now)
		end := rw.end
		if r.Requests > 0 && rw.requests >= r.Requests {
			return &limitHit{strconv.FormatInt(r.Requests, 10) + " requests per " + r.Window.String(), end.Sub(now)}
		}
		if r.Tokens > 0 && rw.tokens >= r.Tokens {
			return &limitHit{strconv.FormatInt(r.Tokens, 10) + " tokens per " + r.Window.String(), end.Sub(now)}
		}
	}
	if b := l.budget; b != nil {
		day := now.UTC().Truncate(24 * time.Hour)
		bw := l.state.current(l.budgetKey(p), day, 24*time.Hour, now)
		if bw.tokens >= b.DailyTokens {
			return &limitHit{"daily budget of " + strconv.FormatInt(b.DailyTokens, 10) + " tokens", day.Add(24 * time.Hour).Sub(now)}
		}
	}
	if rw != nil {
		rw.requests++
	}
	return nil
}

// consume adds a completed request's tokens to the caller's windows.
func (l *limitSet) consume(p *caller.Process, tokens int64, now time.Time) {
	l.state.mu.Lock()
	defer l.state.mu.Unlock()
	if r := l.rate; r != nil {
		l.state.current(l.rateKey(p), now, r.Window, now).tokens += tokens
	}
	if l.budget != nil {
		day := now.UTC().Truncate(24 * time.Hour)
		l.state.current(l.budgetKey(p), day, 24*time.Hour, now).tokens += tokens
	}
}

func (l *limitSet) rateKey(p *caller.Process) string {
	return "rate\x00" + l.rule + "\x00" + callerKey(l.rate.Per, p)
}

func (l *limitSet) budgetKey(p *caller.Process) string {
	return "budget\x00" + l.rule + "\x00" + callerKey(l.budget.Per, p)
}

// callerKey identifies "one caller" for a limit: by default the same program
// run by the same user (uid + executable).
func callerKey(per string, p *caller.Process) string {
	uid := strconv.FormatUint(uint64(p.UID), 10)
	switch per {
	case "uid":
		return uid
	case "exe":
		return p.Exe
	case "unit":
		return p.Unit
	case "container":
		return p.Container
	case "global":
		return ""
	}
	return uid + "\x00" + p.Exe
}
