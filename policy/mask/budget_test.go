package mask

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// denseBody is a Messages request whose one user turn is n bytes of
// secret-dense text: the costliest shape to mask.
func denseBody(tb testing.TB, n int) []byte {
	tb.Helper()
	body, err := json.Marshal(map[string]any{"model": "claude-x", "max_tokens": 16,
		"messages": []any{map[string]any{"role": "user", "content": secretDenseText(n)}}})
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

// TestRequestBudgetRefusesCostlyBody: a body whose masking outlasts the
// budget is an error wrapping ErrBudgetExceeded that names the setting,
// and no body comes back (nothing partly masked can be sent). The same
// body under no budget is masked in full, so the refusal was the budget,
// and the refused pass left nothing half-done in the digest cache.
func TestRequestBudgetRefusesCostlyBody(t *testing.T) {
	body := denseBody(t, 4<<20) // at any speed this takes far more than 1 ms
	m := newTestMasker(t, Config{Budget: time.Millisecond})
	out, res, err := m.Request(body, nil)
	if !errors.Is(err, ErrBudgetExceeded) {
		t.Fatalf("Request under a 1 ms budget: err %v, want ErrBudgetExceeded", err)
	}
	if out != nil || res.Counts != nil {
		t.Fatalf("a refused body came back (%d bytes, counts %v)", len(out), res.Counts)
	}
	if !strings.Contains(err.Error(), "masking.budget") {
		t.Errorf("error %q does not name masking.budget", err)
	}
	m.cfg.Budget = -1 // same engine and cache, no budget
	out, res, err = m.Request(body, nil)
	if err != nil || res.Counts == nil {
		t.Fatalf("without a budget: err %v, counts %v", err, res.Counts)
	}
	mustContainNone(t, out, "AKIAIOSFODNN7EXAMPLE", "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000")
}

// TestRequestBudgetDefaultPassesRealBodies: the default budget masks a
// realistic 200 KB request (and a body that is not JSON) without refusal.
func TestRequestBudgetDefaultPassesRealBodies(t *testing.T) {
	m := newTestMasker(t, Config{})
	for _, body := range [][]byte{realisticRequest(200 << 10), []byte("not json " + secretDenseText(64<<10))} {
		out, res, err := m.Request(body, nil)
		if err != nil || res.Counts == nil || bytes.Equal(out, body) {
			t.Fatalf("default budget: err %v, counts %v", err, res.Counts)
		}
	}
}

// TestRequestBudgetNotJSON: the budget also bounds a body that is not
// JSON (scanned as text).
func TestRequestBudgetNotJSON(t *testing.T) {
	m := newTestMasker(t, Config{Budget: time.Millisecond})
	out, _, err := m.Request([]byte("not json "+secretDenseText(4<<20)), nil)
	if !errors.Is(err, ErrBudgetExceeded) || out != nil {
		t.Fatalf("err %v, %d bytes back; want ErrBudgetExceeded and nothing", err, len(out))
	}
}
