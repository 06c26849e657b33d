package cli

import (
	"testing"
	"time"
)

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Time{
		"":                          {},
		"90m":                       now.Add(-90 * time.Minute),
		"7d":                        now.Add(-7 * 24 * time.Hour),
		"2026-11-29":                time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC),
		"2026-11-29 02:15":          time.Date(2026, 11, 29, 2, 15, 0, 0, time.UTC),
		"2026-11-29T02:15:00+01:00": time.Date(2026, 11, 29, 1, 15, 0, 0, time.UTC),
	}
	for in, want := range cases {
		got, err := parseWhen(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "-5m", "xd", "2026-13-01"} {
		if _, err := parseWhen(bad, now); err == nil {
			t.Errorf("parseWhen(%q) accepted", bad)
		}
	}
}

func TestFlattenStatus(t *testing.T) {
	doc := map[string]any{"version": "1", "capture": map[string]any{"targets": []any{"a", "b"}, "counters": map[string]any{"redirected": float64(3)}},
		"credentials": []any{map[string]any{"name": "default", "ok": true}}, "zzz": nil}
	got := flatten(nil, "capture", doc["capture"])
	want := []any{"capture.targets", "a, b", "capture.counters.redirected", "3"}
	if len(got) != len(want) {
		t.Fatalf("flatten = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("flatten[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if keys := orderedKeys(doc); keys[0] != "version" || keys[len(keys)-1] != "zzz" {
		t.Errorf("ordered keys = %v", keys)
	}
}

func TestStatusProblems(t *testing.T) {
	healthy := map[string]any{"credentials": []any{map[string]any{"name": "default", "ok": true, "error": ""}}, "audit": map[string]any{"ready": ""}}
	if p := statusProblems(healthy); len(p) != 0 {
		t.Errorf("healthy status reported %v", p)
	}
	sick := map[string]any{"credentials": []any{map[string]any{"name": "default", "ok": false, "error": "file missing"}},
		"audit": map[string]any{"ready": "disk full"}}
	if p := statusProblems(sick); len(p) != 2 || p[0] != "credential default: file missing" || p[1] != "audit store: disk full" {
		t.Errorf("problems = %q", p)
	}
}
