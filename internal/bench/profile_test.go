package bench

import "testing"

func TestSharesSumsEntryFramesOnce(t *testing.T) {
	out := `      flat  flat%   sum%        cum   cum%
         0     0%     0%      1.27s 24.71%  github.com/airlock-dev/airlock/policy/mask.(*Masker).Request (inline)
         0     0%     0%      0.26s  5.06%  runtime.gcBgMarkWorker
         0     0%     0%      0.25s  4.86%  runtime.gcBgMarkWorker.func2
         0     0%     0%      0.62s 12.06%  github.com/airlock-dev/airlock/audit.(*Store).writer
`
	sh := shares(out)
	if sh["masking the request (policy/mask walk)"] != 24.71 || sh["garbage collection"] != 5.06 || sh["audit: compression and SQLite commits (writer goroutine)"] != 12.06 {
		t.Fatalf("shares %v", sh)
	}
}
