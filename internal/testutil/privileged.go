// Package testutil holds helpers shared by the project's tests.
package testutil

import (
	"os"
	"testing"
)

// RequirePrivileged skips tb when the process is not root, unless
// AIRLOCK_REQUIRE_PRIVILEGED=1 is set (as CI does), in which case it fails:
// a privileged test that silently skips in CI proves nothing.
func RequirePrivileged(tb testing.TB, why string) {
	tb.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("AIRLOCK_REQUIRE_PRIVILEGED") == "1" {
		tb.Fatalf("needs root (%s) and AIRLOCK_REQUIRE_PRIVILEGED=1 forbids skipping", why)
	}
	tb.Skipf("needs root: %s", why)
}

// Require skips tb with reason when ok is false, or fails it when
// AIRLOCK_REQUIRE_PRIVILEGED=1: use it for any capability CI must have.
func Require(tb testing.TB, ok bool, reason string) {
	tb.Helper()
	if ok {
		return
	}
	if os.Getenv("AIRLOCK_REQUIRE_PRIVILEGED") == "1" {
		tb.Fatalf("missing capability: %s (AIRLOCK_REQUIRE_PRIVILEGED=1 forbids skipping)", reason)
	}
	tb.Skip(reason)
}
