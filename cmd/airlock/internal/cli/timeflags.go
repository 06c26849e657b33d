package cli

import (
	"strconv"
	"strings"
	"time"
)

// parseWhen reads a point in time as a duration ago ("90m", "2h", "7d") or
// as a date ("2026-11-29", "2026-11-29 02:15", RFC 3339). Dates without a
// zone are UTC, as audit times are.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, ok := parseAgo(s); ok {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usage("give a duration ago (30m, 2h, 7d) or a time (2026-11-29, '2026-11-29 02:15', RFC 3339)", "cannot read the time %q", s)
}

// parseAgo accepts Go durations plus a day suffix.
func parseAgo(s string) (time.Duration, bool) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		return time.Duration(n) * 24 * time.Hour, err == nil && n >= 0
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d >= 0
}
