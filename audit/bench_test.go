package audit

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"
)

// BenchmarkWrite measures one writer: every Write waits for its own commit
// (synchronous=NORMAL, the default); BenchmarkWriteFull with an fsync each.
func BenchmarkWrite(b *testing.B)     { benchWrite(b, StoreConfig{}) }
func BenchmarkWriteFull(b *testing.B) { benchWrite(b, StoreConfig{Sync: SyncFull}) }

func benchWrite(b *testing.B, cfg StoreConfig) {
	s := openTest(b, cfg)
	lat := make([]time.Duration, 0, b.N)
	rc := sampleRecording()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := s.Write(context.Background(), sampleRecord(i), rc); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	reportLatency(b, lat)
}

// BenchmarkWriteParallel measures sustained throughput with 32 concurrent
// writers (as under load from many clients): group commit shares each commit.
func BenchmarkWriteParallel(b *testing.B)     { benchWriteParallel(b, StoreConfig{}) }
func BenchmarkWriteParallelFull(b *testing.B) { benchWriteParallel(b, StoreConfig{Sync: SyncFull}) }

func benchWriteParallel(b *testing.B, cfg StoreConfig) {
	s := openTest(b, cfg)
	rc := sampleRecording()
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	b.SetParallelism(16) // x GOMAXPROCS goroutines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			start := time.Now()
			if err := s.Write(context.Background(), sampleRecord(i), rc); err != nil {
				b.Error(err)
				return
			}
			d := time.Since(start)
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
		}
	})
	reportLatency(b, lat)
}

// BenchmarkAppendParallel is the daemon's path: 32 concurrent Appends (each
// returns once spooled), with recordings of a typical streamed answer; the
// writer compresses them and commits in groups. records/s counts until the
// last one is committed.
func BenchmarkAppendParallel(b *testing.B) {
	s := openTest(b, StoreConfig{})
	appendEach(b, s, streamRecording(200), 0)
	if got, want := s.committed.Load(), s.appended.Load(); got != want {
		b.Fatalf("%d of %d records committed", got, want)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// appendEach runs b.N Appends of rc from 32 callers, each pausing after its
// own, and stops the timer once the last is committed.
func appendEach(b *testing.B, s *Store, rc *Recording, pause time.Duration) {
	b.SetParallelism(16) // x GOMAXPROCS goroutines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if err := s.Append(context.Background(), sampleRecord(i), rc); err != nil {
				b.Error(err)
				return
			}
			time.Sleep(pause)
		}
	})
	s.settle(context.Background())
	b.StopTimer()
}

func reportLatency(b *testing.B, lat []time.Duration) {
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkRecordingPerEvent: the cost of keeping one streamed SSE event
// (encoding + compression), reported per event.
func BenchmarkRecordingPerEvent(b *testing.B) {
	const events = 500
	rc := streamRecording(events)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := compressRecording(rc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*events), "ns/event")
}

// streamRecording is a streamed answer of n text deltas to a 4 KiB request.
func streamRecording(n int) *Recording {
	rc := &Recording{RequestBody: make([]byte, 4096), ContentType: "text/event-stream"}
	for i := 0; i < n; i++ {
		rc.Events = append(rc.Events, Event{Offset: time.Duration(i) * time.Millisecond,
			Data: fmt.Appendf(nil, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"token %d \"}}\n\n", i)})
	}
	return rc
}

// BenchmarkRecordingSmall: encoding a typical short recording (one short
// request, ten events).
func BenchmarkRecordingSmall(b *testing.B) {
	rc := sampleRecording()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := compressRecording(rc); err != nil {
			b.Fatal(err)
		}
	}
}
