package mask

import (
	"errors"
	"fmt"
	"time"
)

// The masking budget. Masking costs CPU in proportion to what the detectors
// find to examine: clean text flows at tens of MB/s, but a body packed with
// keyword occurrences and secrets makes every one run its regular
// expressions, and a hostile process on the host can send 32 MiB of that
// to burn seconds of CPU per request. A request whose masking would exceed
// the budget is refused, never passed on unmasked.

// ErrBudgetExceeded is returned by Request when masking the body would
// take longer than Config.Budget.
var ErrBudgetExceeded = errors.New("masking budget exceeded")

// defaultBudget is generous for any real request (a 32 MiB body of clean
// text takes about half a second, 10 MB of secret-dense text about one on
// a quiet core) and bounds what one hostile body costs.
const defaultBudget = 3 * time.Second

// budgetCheckEvery is the work (bytes examined) between two looks at the
// clock: a clock read costs about as much as scanning a few bytes.
const budgetCheckEvery = 16 << 10

// budget tracks one request's masking against its deadline. A nil budget
// never runs out.
type budget struct {
	deadline time.Time
	limit    time.Duration
	work     int
	over     bool
}

// newBudget starts the budget of one request (d < 0: none).
func newBudget(d time.Duration) *budget {
	if d < 0 {
		return nil
	}
	if d == 0 {
		d = defaultBudget
	}
	return &budget{deadline: time.Now().Add(d), limit: d}
}

// spend records n bytes of work and says whether the budget is gone.
func (b *budget) spend(n int) bool {
	if b == nil {
		return false
	}
	if b.work += n; b.work >= budgetCheckEvery {
		b.work = 0
		b.over = b.over || time.Now().After(b.deadline)
	}
	return b.over
}

// exceeded says whether the budget ran out.
func (b *budget) exceeded() bool { return b != nil && b.over }

// err is the error a request that ran out of budget returns.
func (b *budget) err(size int) error {
	return fmt.Errorf("%w: masking this %d-byte body would take longer than %v (masking.budget); "+
		"send less text in one request", ErrBudgetExceeded, size, b.limit)
}
