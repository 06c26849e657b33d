package e2e

import (
	"strings"
	"testing"

	"github.com/airlock-dev/airlock/audit"
	"github.com/airlock-dev/airlock/internal/fakeapi"
)

// AssertUpstreamGotOnlyManagedKey checks the fake API received n requests, each
// carrying the managed key as x-api-key and none of the leaked values anywhere
// in its headers or body.
func (h *Harness) AssertUpstreamGotOnlyManagedKey(t testing.TB, n int, leaked ...string) {
	t.Helper()
	got := h.Upstream.Requests()
	if len(got) != n {
		t.Fatalf("upstream received %d requests, want %d", len(got), n)
	}
	for i, r := range got {
		if k := r.Header.Values("X-Api-Key"); len(k) != 1 || k[0] != ManagedKey {
			t.Errorf("request %d: upstream x-api-key %q, want only the managed key", i, k)
		}
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("request %d: upstream got Authorization %q", i, a)
		}
		for _, l := range leaked {
			if strings.Contains(headerText(r.Header), l) || strings.Contains(string(r.Body), l) {
				t.Errorf("request %d: the leaked key %q reached the upstream", i, l)
			}
		}
	}
}

func headerText(h map[string][]string) string {
	var b strings.Builder
	for k, vs := range h {
		for _, v := range vs {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	return b.String()
}

// LastAudit returns the newest audit record, failing t when there is none.
func (h *Harness) LastAudit(t testing.TB) audit.Record {
	t.Helper()
	recs := h.Audit(t)
	if len(recs) == 0 {
		t.Fatalf("no audit record\ndaemon log:\n%s", h.Log())
	}
	last := recs[0]
	for _, r := range recs {
		if r.ID > last.ID {
			last = r
		}
	}
	return last
}

// upstreamKeys is a fake upstream that accepts these API keys.
func upstreamKeys(keys ...string) fakeapi.Config { return fakeapi.Config{APIKeys: keys} }
