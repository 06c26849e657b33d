package mask

import (
	"strconv"
	"strings"
	"testing"
)

// A short text found clean is not scanned again, but only by the engine
// that found it: once it becomes the managed credential it is masked.
func TestRememberedCleanTextFollowsTheManagedCredential(t *testing.T) {
	m := newTestMasker(t, Config{})
	v := "zz-FAKE-next-managed-value"
	for range 2 {
		if out, res := m.Text(v, nil); out != v || res.Counts != nil {
			t.Fatalf("clean text became %q %v", out, res.Counts)
		}
	}
	m.SetManaged([]string{v})
	if out, res := m.Text("key="+v, nil); strings.Contains(out, v) || res.Counts[ManagedCredential] != 1 {
		t.Fatalf("the new managed value passed: %q %v", out, res.Counts)
	}
	if out, _ := m.Text(v, nil); out == v {
		t.Fatal("a text remembered clean before it became the managed credential still passes")
	}
}

// Only texts every detector passed are remembered: one a selection let
// through, or one with a finding, is scanned again.
func TestOnlyWhollyCleanTextsAreRemembered(t *testing.T) {
	m := newTestMasker(t, Config{})
	secret := "token ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000"
	if out, _ := m.Text(secret, Selection{"email"}); out != secret {
		t.Fatalf("the email detector alone changed %q", out)
	}
	for range 2 {
		if out, res := m.Text(secret, nil); strings.Contains(out, "ghp_") || len(res.Counts) == 0 {
			t.Fatalf("%q passed after it was seen under a narrower selection", out)
		}
	}
}

// A program sending ever new header values fills the set; it starts afresh
// and keeps answering right.
func TestCleanSetStaysBounded(t *testing.T) {
	m := newTestMasker(t, Config{})
	ec := m.engine.Load()
	for i := range 3 * cleanEntries {
		v := "value-" + strconv.Itoa(i)
		if out, _ := m.Text(v, nil); out != v {
			t.Fatalf("%q became %q", v, out)
		}
		if n := ec.clean.Load().n.Load(); n > cleanEntries+1 {
			t.Fatalf("%d entries", n)
		}
	}
	if out, _ := m.Text("a ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000", nil); strings.Contains(out, "ghp_") {
		t.Fatal("masking failed after the set filled")
	}
}
