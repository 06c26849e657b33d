package cli

import (
	"testing"
	"time"

	"github.com/airlock-dev/airlock/admin"
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

func TestStatusProblems(t *testing.T) {
	healthy := admin.Status{Credentials: []admin.CredentialStatus{{Name: "default", OK: true}}, Audit: admin.AuditStatus{OK: true}}
	if p := healthy.Problems(); len(p) != 0 {
		t.Errorf("healthy status reported %v", p)
	}
	sick := admin.Status{Credentials: []admin.CredentialStatus{{Name: "default", Error: "file missing"}},
		Audit: admin.AuditStatus{Error: "disk full"}}
	if p := sick.Problems(); len(p) != 2 || p[0] != "credential default: file missing" || p[1] != "audit store: disk full" {
		t.Errorf("problems = %q", p)
	}
}
