package audit

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestReplayIsByteIdentical(t *testing.T) {
	rc := sampleRecording()
	var want bytes.Buffer
	for _, ev := range rc.Events {
		want.Write(ev.Data)
	}
	for _, speed := range []float64{0, 1000} {
		var got bytes.Buffer
		if err := Replay(context.Background(), &got, rc, speed); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("speed %v: replay differs:\n%q\nwant\n%q", speed, got.String(), want.String())
		}
	}
}

func TestReplayStopsOnCancel(t *testing.T) {
	rc := &Recording{Events: []Event{{Offset: 0, Data: []byte("a")}, {Offset: time.Hour, Data: []byte("b")}}}
	ctx, cancel := context.WithCancel(context.Background())
	var got bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- Replay(ctx, &got, rc, 1) }()
	cancel()
	if err := <-done; err == nil || got.String() == "ab" {
		t.Fatalf("replay ignored cancellation: %v %q", err, got.String())
	}
}

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

func TestRenderSession(t *testing.T) {
	s := openTest(t, StoreConfig{})
	first := sampleRecording()
	second := sampleRecording()
	second.RequestBody = []byte(`{"messages":[{"role":"user","content":"List the files"},
		{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls"}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"README.md\ngo.mod"}]}]}`)
	second.ContentType = "application/json"
	second.Events = []Event{{Data: []byte(`{"content":[{"type":"text","text":"There are two files."}]}`)}}
	for _, rc := range []*Recording{first, second} {
		if err := s.Write(context.Background(), sampleRecord(1), rc); err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.Session(context.Background(), "sess-1")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := RenderSession(&out, d); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"user: List the files", "assistant: I will run ls.", `tool call Bash {"command": "ls"}`,
		"tool result: README.md", "assistant: There are two files.", "(stop: tool_use)"} {
		if !strings.Contains(text, want) {
			t.Errorf("rendering lacks %q:\n%s", want, text)
		}
	}
	if strings.Count(text, "user: List the files") != 1 {
		t.Errorf("resent history printed twice:\n%s", text)
	}
}
