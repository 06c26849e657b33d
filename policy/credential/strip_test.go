package credential

import (
	"net/http"
	"testing"
)

func TestStrip(t *testing.T) {
	s := NewStripper([]byte("install-key"))
	cases := []struct {
		h     http.Header
		class string
		count int
	}{
		{http.Header{"Content-Type": {"x"}}, ClassNone, 0},
		{http.Header{"x-api-key": {"sk-ant-api03-FAKE"}}, ClassAPIKey, 1},
		{http.Header{"Authorization": {"Bearer sk-ant-oat01-FAKE"}}, ClassOAuthToken, 1},
		{http.Header{"PROXY-AUTHORIZATION": {"Bearer sk-ant-admin01-FAKE"}}, ClassAdminKey, 1},
		{http.Header{"Authorization": {"Basic abc"}, "X-Api-Key": {"sk-ant-api03-FAKE", "dup"}}, ClassAPIKey, 3},
		{http.Header{"Authorization": {"token xyz"}}, ClassOther, 1},
	}
	for _, tc := range cases {
		e := s.Strip(tc.h)
		if e.Class != tc.class || e.Count != tc.count {
			t.Errorf("%v: got %+v, want %s/%d", tc.h, e, tc.class, tc.count)
		}
		if len(tc.h) > 1 || (len(tc.h) == 1 && tc.h.Get("Content-Type") == "") {
			t.Errorf("credential headers left: %v", tc.h)
		}
		if (e.Fingerprint == "") != (tc.class == ClassNone) || (e.Fingerprint != "" && len(e.Fingerprint) != 12) {
			t.Errorf("fingerprint %q", e.Fingerprint)
		}
	}
	a := s.Strip(http.Header{"X-Api-Key": {"sk-ant-api03-FAKE"}}).Fingerprint
	b := s.Strip(http.Header{"Authorization": {"Bearer sk-ant-api03-FAKE"}}).Fingerprint
	c := NewStripper([]byte("other-install")).Strip(http.Header{"X-Api-Key": {"sk-ant-api03-FAKE"}}).Fingerprint
	if a != b || a == c {
		t.Errorf("fingerprints: same value %q/%q, other install %q", a, b, c)
	}
}

func FuzzStrip(f *testing.F) {
	f.Add("X-Api-Key", "sk-ant-api03-x")
	f.Add("authorization", "Bearer  sk-ant-oat01-y ")
	s := NewStripper([]byte("k"))
	f.Fuzz(func(t *testing.T, k, v string) {
		h := http.Header{k: {v}, "Keep": {"1"}}
		s.Strip(h)
		for key := range h {
			if isCredentialHeader(key) {
				t.Fatalf("left %q", key)
			}
		}
		if h.Get("Keep") != "1" && !isCredentialHeader("Keep") && k != "Keep" {
			t.Fatal("removed an unrelated header")
		}
	})
}
