package mask

import (
	"strings"
	"testing"
)

// TestCacheIsScoped: a body masked in one scope is a cache hit there and a
// miss in any other, so one caller cannot time the cache for another's
// prompts. The results are the same in both.
func TestCacheIsScoped(t *testing.T) {
	m := newTestMasker(t, Config{})
	body := `{"messages":[{"role":"user","content":"` + strings.Repeat("a long turn of prose. ", 20) +
		`AKIAIOSFODNN7EXAMPLE"}]}`
	mask := func(scope Scope) string {
		t.Helper()
		out, res, err := m.For(scope).Request([]byte(body), nil)
		if err != nil || res.Counts["aws_access_key_id"] != 1 {
			t.Fatalf("scope %q: %v %v", scope, res.Counts, err)
		}
		return string(out)
	}
	first := mask("uid=1000")
	n := m.CacheLen()
	if n == 0 {
		t.Fatal("nothing cached")
	}
	if again := mask("uid=1000"); again != first || m.CacheLen() != n {
		t.Fatalf("same scope: %d entries after %d, want a hit", m.CacheLen(), n)
	}
	if other := mask("uid=1001"); other != first || m.CacheLen() == n {
		t.Fatalf("another scope: %d entries after %d, want a miss and the same result", m.CacheLen(), n)
	}
	if _, _, err := m.Request([]byte(body), nil); err != nil || m.CacheLen() <= n {
		t.Fatalf("the empty scope: %d entries, %v; want a miss, as in any other scope", m.CacheLen(), err)
	}
}

// TestScopesDoNotRunTogether: the scope's length goes into the key, so no
// scope and text read as another pair.
func TestScopesDoNotRunTogether(t *testing.T) {
	if digest("ab", "c", nil) == digest("a", "bc", nil) {
		t.Fatal("scope and text run together in the key")
	}
}
