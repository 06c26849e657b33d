package bench

import (
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/policy"
	"github.com/airlock-dev/airlock/policy/mask"
)

func TestSharesSumsEntryFramesOnce(t *testing.T) {
	out := `      flat  flat%   sum%        cum   cum%
         0     0%     0%      1.27s 24.71%  github.com/airlock-dev/airlock/policy/mask.Scoped.Request (inline)
         0     0%     0%      0.26s  5.06%  runtime.gcBgMarkWorker
         0     0%     0%      0.25s  4.86%  runtime.gcBgMarkWorker.func2
         0     0%     0%      0.62s 12.06%  github.com/airlock-dev/airlock/audit.(*Store).writer
`
	sh := shares(out)
	if sh["masking the request (policy/mask walk)"] != 24.71 || sh["garbage collection"] != 5.06 || sh["audit: compression and SQLite commits (writer goroutine)"] != 12.06 {
		t.Fatalf("shares %v", sh)
	}
}

// TestCostGroupsNameRealFunctions: the exported entry frames the report
// attributes are functions that exist under those names, so a rename shows
// here rather than as a part of Airlock measured at 0%.
func TestCostGroupsNameRealFunctions(t *testing.T) {
	named := map[string]bool{}
	for _, g := range costGroups {
		for _, f := range g.frames {
			named[f] = true
		}
	}
	for _, fn := range []any{mask.Scoped.Request, (*audit.Store).Write, (*audit.Store).Append, (*policy.Engine).Decide} {
		name := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
		found := false
		for f := range named {
			found = found || strings.HasSuffix(name, f)
		}
		if !found {
			t.Errorf("%s is no entry frame of costGroups", name)
		}
	}
}
