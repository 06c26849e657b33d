package audit

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestSessionsGroupByHeaderElseCallerAndGap(t *testing.T) {
	s := openTest(t, StoreConfig{SessionGap: 10 * time.Minute})
	write := func(at time.Duration, session string, uid uint32) *Record {
		r := sampleRecord(0)
		r.Time, r.SessionID, r.Caller.UID = t0.Add(at), session, uid
		if err := s.Write(context.Background(), r, sampleRecording()); err != nil {
			t.Fatal(err)
		}
		return r
	}
	a1 := write(0, "", 1000)
	a2 := write(5*time.Minute, "", 1000)  // same caller within the gap
	b := write(6*time.Minute, "", 1001)   // another caller
	a3 := write(30*time.Minute, "", 1000) // after the gap: a new session
	h := write(31*time.Minute, "claude-code-abc", 1000)
	if a1.SessionID != a2.SessionID || a1.SessionID == b.SessionID || a1.SessionID == a3.SessionID ||
		!strings.HasPrefix(a1.SessionID, derivedPrefix) || h.SessionID != "claude-code-abc" {
		t.Fatalf("sessions: a1=%s a2=%s b=%s a3=%s h=%s", a1.SessionID, a2.SessionID, b.SessionID, a3.SessionID, h.SessionID)
	}
	list, err := s.Sessions(context.Background(), SessionFilter{})
	if err != nil || len(list) != 4 || list[0].ID != "claude-code-abc" || list[0].Derived {
		t.Fatalf("Sessions = %+v, %v", list, err)
	}
	d, err := s.Session(context.Background(), a1.SessionID)
	if err != nil || d.Records != 2 || len(d.Entries) != 2 || d.Entries[1].Recording == nil || !d.Derived {
		t.Fatalf("Session = %+v, %v", d.Session, err)
	}
	if _, err := s.Session(context.Background(), "nope"); err == nil {
		t.Fatal("unknown session found")
	}
}
