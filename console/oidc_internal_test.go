package console

import (
	"testing"
	"time"
)

// A sign-in's secrets come back only for its own, unexpired state, and
// only from the process that started it.
func TestLoginStateIsStatelessAndBounded(t *testing.T) {
	o := newOIDCLogin(OIDC{Issuer: "https://idp.test"}, nil)
	now := time.Now()
	state, p := o.start(now)
	if len(p.verifier) < 43 || p.nonce == p.verifier {
		t.Fatalf("derived secrets %+v", p)
	}
	if got, ok := o.finish(state, now.Add(loginTTL-time.Second)); !ok || got != p {
		t.Fatalf("the login's own state: %+v %v", got, ok)
	}
	for _, bad := range []string{"", "garbage", "99999999999", state + "x"} {
		if got, ok := o.finish(bad, now); ok && got == p {
			t.Fatalf("state %q gave back the login's secrets", bad)
		}
	}
	if _, ok := o.finish(state, now.Add(loginTTL+2*time.Second)); ok {
		t.Fatal("an expired sign-in finished")
	}
	if other, _ := newOIDCLogin(OIDC{}, nil).finish(state, now); other == p {
		t.Fatal("another process derived the same secrets")
	}
}
