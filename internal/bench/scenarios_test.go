package bench

import (
	"strings"
	"testing"
)

// A typo in --scenarios is refused with the ids there are, instead of a run
// that measures nothing.
func TestCheckSelect(t *testing.T) {
	ok := FullOptions{Sizes: FullSizes, Select: []string{"stream_paced", "stream_c1"}}
	if err := ok.checkSelect(); err != nil {
		t.Errorf("known ids refused: %v", err)
	}
	typo := FullOptions{Sizes: FullSizes, Select: []string{"stream_c1", "stream-paced"}}
	err := typo.checkSelect()
	if err == nil || !strings.Contains(err.Error(), `"stream-paced"`) || !strings.Contains(err.Error(), "stream_paced_c1") {
		t.Errorf("a typo gave %v; want it named, with the known ids", err)
	}
}
