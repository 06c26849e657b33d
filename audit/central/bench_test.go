package central

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkShip measures the central sink: how many records per second one
// host's shipper moves from its local store into a real PostgreSQL (the
// fleet issue asks for at least 5,000 on this 2-core machine).
//
//	go test ./audit/central -run '^$' -bench Ship -benchtime 3x
func BenchmarkShip(b *testing.B) {
	const n = 20000
	f := newBenchFleet(b, n)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		host := fmt.Sprintf("bench-%d", i)
		s := &Shipper{DB: f.db, Local: f.local["host-a"], Host: host, Interval: 5 * time.Millisecond}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { s.Run(ctx) })
		f.waitHead(b, host, n)
		cancel()
		wg.Wait()
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "records/s")
}

// newBenchFleet is a fleet whose host-a already holds n local records.
func newBenchFleet(b *testing.B, n int) *fleet {
	f := newFleet(b, "host-a")
	var wg sync.WaitGroup
	for w := range 8 { // concurrent writers, as the gateway's requests are
		wg.Go(func() { f.writeN(b, "host-a", w, n/8) })
	}
	wg.Wait()
	return f
}
