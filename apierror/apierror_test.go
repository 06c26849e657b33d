package apierror

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"
)

func TestWriteShape(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, 403, Permission, "denied by rule r1", "req_1")
	if rec.Code != 403 || rec.Header().Get("X-Should-Retry") != "false" {
		t.Fatalf("status %d, x-should-retry %q", rec.Code, rec.Header().Get("X-Should-Retry"))
	}
	var b Body
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	if b.Type != "error" || b.Error.Type != Permission || b.Error.Message != "denied by rule r1" || b.RequestID != "req_1" {
		t.Fatalf("body %+v", b)
	}
}

func TestRetryAfterRoundsUp(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteRetryAfter(rec, 1500*time.Millisecond, "slow down", "")
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "2" {
		t.Fatalf("status %d retry-after %q", rec.Code, rec.Header().Get("Retry-After"))
	}
}
