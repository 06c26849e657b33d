package mask

import (
	"errors"
	"strings"
	"testing"
)

// The walk bounds its own recursion: a tool input nested deeper than
// maxWalkDepth is an error, not a stack overflow, even for a caller that
// did not bound the depth first.
func TestWalkDepthIsBounded(t *testing.T) {
	m, err := New(Config{Key: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	input := func(n int) string {
		return `{"messages":[{"role":"assistant","content":[{"type":"tool_use","input":` +
			strings.Repeat("[", n) + `"AKIAIOSFODNN7EXAMPLE"` + strings.Repeat("]", n) + `}]}]}`
	}
	if _, _, err := m.Request([]byte(input(maxWalkDepth+1)), nil); !errors.Is(err, errTooDeep) {
		t.Fatalf("too deep: err %v", err)
	}
	out, _, err := m.Request([]byte(input(maxWalkDepth-10)), nil)
	if err != nil || strings.Contains(string(out), "AKIAIOSFODNN7EXAMPLE") {
		t.Fatalf("within the bound: err %v", err)
	}
}
