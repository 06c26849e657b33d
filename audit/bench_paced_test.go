//go:build unix

package audit

import (
	"syscall"
	"testing"
	"time"
)

// BenchmarkAppendPaced is Append at the pace of requests rather than a
// flood: 32 callers each spool a record every 10 ms (about 3,000 records/s,
// the in-process daemon's rate at concurrency 16), so the writer's groups are
// as small as they are in the daemon. The figure
// is cpu-µs/record, the process's CPU time (user and system) per record,
// which a machine shared with other work disturbs less than a rate.
func BenchmarkAppendPaced(b *testing.B) {
	s := openTest(b, StoreConfig{})
	before := processCPU(b)
	appendEach(b, s, sampleRecording(), 10*time.Millisecond)
	b.ReportMetric(float64((processCPU(b)-before).Microseconds())/float64(b.N), "cpu-µs/record")
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
